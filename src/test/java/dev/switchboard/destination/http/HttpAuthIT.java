package dev.switchboard.destination.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.ingest.verify.StandardWebhooksVerifier;
import dev.switchboard.testing.DestinationConfigs;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.FakeDestination.Request;
import dev.switchboard.testing.FakeTokenEndpoint;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The {@code http} destination's {@code auth:} against local token endpoints that speak Entra ID
 * v2's and Genesys Cloud's dialects, and a local API that records what it was sent.
 */
@Timeout(60)
class HttpAuthIT {
  static final String TENANT = "6f1c2d3e-0a4b-4c5d-8e9f-a0b1c2d3e4f5";
  static final String APP = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
  static final String SECRET = "Qx8~entra.client.secret_value-0123";
  static final String SCOPE = "https://service.flow.microsoft.com//.default";
  static final String WHSEC =
      "whsec_" + Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes());
  static final StandardWebhooksVerifier SIGNER =
      new StandardWebhooksVerifier(List.of(), Duration.ofMinutes(5));
  static final byte[] BODY = "{\"ticketId\":\"T-1\"}".getBytes(StandardCharsets.UTF_8);

  final MutableClock clock = new MutableClock(Instant.parse("2026-12-07T10:00:00Z"));
  final OAuthSessions sessions = new OAuthSessions(clock);
  final FakeDestination api = new FakeDestination();
  final List<AutoCloseable> opened = new ArrayList<>();
  final Logger log = (Logger) LoggerFactory.getLogger("dev.switchboard");
  final Level level = log.getLevel();
  final ListAppender<ILoggingEvent> logged = new ListAppender<>();

  HttpAuthIT() {
    log.setLevel(Level.DEBUG);
    logged.start();
    log.addAppender(logged);
  }

  @AfterEach
  void close() throws Exception {
    log.detachAppender(logged);
    log.setLevel(level);
    for (AutoCloseable c : opened) {
      c.close();
    }
    sessions.close();
    api.close();
  }

  FakeTokenEndpoint entra() {
    FakeTokenEndpoint entra = FakeTokenEndpoint.entraId(TENANT, APP, SECRET, SCOPE);
    opened.add(entra);
    return entra;
  }

  Map<String, Object> entraAuth(FakeTokenEndpoint entra, String secret) {
    Map<String, Object> auth = new LinkedHashMap<>();
    auth.put("type", "oauth2-client-credentials");
    auth.put("token_url", entra.tokenUrl().toString());
    auth.put("client_id", APP);
    auth.put("client_secret", secret);
    auth.put("scope", SCOPE);
    return auth;
  }

  Destination destination(Map<String, Object> keys) {
    Map<String, Object> all = new HashMap<>(keys);
    all.putIfAbsent("url", api.uri("/flow").toString());
    DestinationConfig config = DestinationConfigs.load("flow", "http", all, null, 4);
    Destination d =
        new HttpConnector().create(config, new ConnectorContext(clock, SIGNER::sign, sessions));
    opened.add(d);
    return d;
  }

  static OutboundDelivery delivery(String key) {
    return new OutboundDelivery("dlv-" + key, "evt-" + key, key, null, BODY, Map.of(), 1);
  }

  @Test
  void anEntraIdTokenIsFetchedOnceForManyDeliveries() {
    FakeTokenEndpoint entra = entra();
    Destination flow = destination(Map.of("auth", entraAuth(entra, SECRET)));

    for (int i = 0; i < 5; i++) {
      assertThat(flow.send(delivery("k" + i))).isInstanceOf(Delivered.class);
    }

    assertThat(entra.requests()).hasSize(1);
    FakeTokenEndpoint.TokenRequest asked = entra.requests().get(0);
    assertThat(asked.form())
        .containsExactly(
            Map.entry("grant_type", "client_credentials"),
            Map.entry("client_id", APP),
            Map.entry("client_secret", SECRET),
            Map.entry("scope", SCOPE));
    assertThat(asked.authorization()).isNull();
    assertThat(api.requests())
        .hasSize(5)
        .allSatisfy(r -> assertThat(r.header("Authorization")).isEqualTo("Bearer tok-1"));
  }

  @Test
  void aTokenIsRenewedAMarginBeforeItEndsWithoutA401() {
    FakeTokenEndpoint entra = entra();
    Destination flow = destination(Map.of("auth", entraAuth(entra, SECRET)));
    flow.send(delivery("k1"));

    clock.advance(Duration.ofSeconds(3599 - 60 - 1)); // one second before the margin
    flow.send(delivery("k2"));
    clock.advance(Duration.ofSeconds(2)); // inside the last minute of expires_in
    flow.send(delivery("k3"));

    assertThat(entra.issued()).containsExactly("tok-1", "tok-2");
    assertThat(api.requests())
        .extracting(r -> r.header("Authorization"))
        .containsExactly("Bearer tok-1", "Bearer tok-1", "Bearer tok-2");
  }

  @Test
  void a401RenewsTheTokenOnceInsideTheSameAttempt() {
    FakeTokenEndpoint entra = entra();
    Destination flow = destination(Map.of("auth", entraAuth(entra, SECRET)));
    api.answer(Answer.status(401).body("{\"error\":{\"code\":\"InvalidAuthenticationToken\"}}"));

    DeliveryResult result = flow.send(delivery("k1"));

    assertThat(result).isInstanceOf(Delivered.class);
    assertThat(api.requests())
        .extracting(r -> r.header("Authorization"))
        .containsExactly("Bearer tok-1", "Bearer tok-2");
    assertThat(api.requests())
        .extracting(r -> r.header("Idempotency-Key"))
        .containsExactly("k1", "k1");

    // refused twice in a row: one renewal only, then the 401 is the attempt's answer
    api.answer(Answer.status(401), Answer.status(401));
    assertThat(flow.send(delivery("k2")))
        .isInstanceOfSatisfying(Rejected.class, r -> assertThat(r.status()).isEqualTo(401));
    assertThat(entra.issued()).containsExactly("tok-1", "tok-2", "tok-3");
    assertThat(api.requests()).hasSize(4);
  }

  @Test
  void genesysLoginIsAskedWithBasicClientAuthentication() {
    FakeTokenEndpoint genesys = FakeTokenEndpoint.genesys("gc-client", "gc-secret-value");
    opened.add(genesys);
    Map<String, Object> auth = new LinkedHashMap<>();
    auth.put("type", "oauth2-client-credentials");
    auth.put("token_url", genesys.tokenUrl().toString());
    auth.put("client_id", "gc-client");
    auth.put("client_secret", "gc-secret-value");
    auth.put("client_auth", "basic");
    Destination d = destination(Map.of("auth", auth));

    assertThat(d.send(delivery("k1"))).isInstanceOf(Delivered.class);
    assertThat(d.send(delivery("k2"))).isInstanceOf(Delivered.class);

    assertThat(genesys.requests()).hasSize(1);
    assertThat(genesys.requests().get(0).form())
        .containsExactly(Map.entry("grant_type", "client_credentials"));
    assertThat(genesys.requests().get(0).authorization())
        .isEqualTo(
            "Basic "
                + Base64.getEncoder()
                    .encodeToString("gc-client:gc-secret-value".getBytes(StandardCharsets.UTF_8)));
    assertThat(api.requests().get(1).header("Authorization")).isEqualTo("Bearer tok-1");
  }

  @Test
  void extraFormFieldsAndAudienceGoToTheTokenRequest() {
    FakeTokenEndpoint genesys = FakeTokenEndpoint.genesys("c", "s");
    opened.add(genesys);
    Map<String, Object> auth = new LinkedHashMap<>();
    auth.put("type", "oauth2-client-credentials");
    auth.put("token_url", genesys.tokenUrl().toString());
    auth.put("client_id", "c");
    auth.put("client_secret", "s");
    auth.put("client_auth", "basic");
    auth.put("audience", "https://api.example.com");
    auth.put("form", Map.of("resource", "crm"));

    destination(Map.of("auth", auth)).send(delivery("k1"));

    assertThat(genesys.requests().get(0).form())
        .containsExactly(
            Map.entry("grant_type", "client_credentials"),
            Map.entry("audience", "https://api.example.com"),
            Map.entry("resource", "crm"));
  }

  @Test
  void aRefusedClientIsARetryOfClassAuthThatNeverRepeatsTheSecret() {
    FakeTokenEndpoint entra = entra();
    Destination flow = destination(Map.of("auth", entraAuth(entra, "wrong-secret-value-42")));

    DeliveryResult result = flow.send(delivery("k1"));

    assertThat(result)
        .isInstanceOfSatisfying(
            RetryLater.class,
            r -> {
              assertThat(r.errorClass()).isEqualTo(ErrorClass.AUTH);
              assertThat(r.error())
                  .startsWith("auth: oauth 401 invalid_client: AADSTS7000215")
                  .doesNotContain("wrong-secret-value-42");
            });
    assertThat(api.requests()).isEmpty();
    assertThat(messages()).noneMatch(m -> m.contains("wrong-secret-value-42"));
  }

  @Test
  void destinationsOfOneClientShareOneToken() {
    FakeTokenEndpoint entra = entra();
    Destination one = destination(Map.of("auth", entraAuth(entra, SECRET)));
    Destination two =
        destination(Map.of("auth", entraAuth(entra, SECRET), "url", api.uri("/other").toString()));

    one.send(delivery("k1"));
    two.send(delivery("k2"));

    assertThat(entra.requests()).hasSize(1);
    assertThat(sessions.clients()).isEqualTo(1);
  }

  @Test
  void bearerAndBasicAreSentAsConfigured() {
    destination(Map.of("auth", Map.of("type", "bearer", "token", "static-token-1")))
        .send(delivery("k1"));
    destination(Map.of("auth", Map.of("type", "basic", "username", "u", "password", "p w")))
        .send(delivery("k2"));

    assertThat(api.requests())
        .extracting(r -> r.header("Authorization"))
        .containsExactly(
            "Bearer static-token-1",
            "Basic "
                + Base64.getEncoder().encodeToString("u:p w".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void aBearerTokenRefusedIsTheAnswerNotARenewal() {
    api.answer(Answer.status(401));
    DeliveryResult result =
        destination(Map.of("auth", Map.of("type", "bearer", "token", "static-token-1")))
            .send(delivery("k1"));

    assertThat(result).isInstanceOf(Rejected.class);
    assertThat(api.requests()).hasSize(1);
  }

  @Test
  void signingGoesOnBesideAuth() {
    FakeTokenEndpoint entra = entra();
    Destination flow =
        destination(
            Map.of(
                "auth", entraAuth(entra, SECRET),
                "sign", Map.of("scheme", "standard-webhooks", "secret", WHSEC)));

    flow.send(delivery("k1"));

    Request request = api.requests().get(0);
    assertThat(request.header("Authorization")).isEqualTo("Bearer tok-1");
    assertThat(request.header("webhook-id")).isEqualTo("k1");
    assertThat(request.header("webhook-signature")).startsWith("v1,");
  }

  @Test
  void tokensAndSecretsNeverReachTheLogsNorTheSettingsText() {
    FakeTokenEndpoint entra = entra();
    Destination flow = destination(Map.of("auth", entraAuth(entra, SECRET)));
    api.answer(Answer.status(401), Answer.status(500));
    flow.send(delivery("k1")); // 401, renewal, 500
    flow.send(delivery("k2"));
    destination(Map.of("auth", entraAuth(entra, "wrong-secret-value-42"))).send(delivery("k3"));

    assertThat(entra.issued()).hasSize(2);
    List<String> lines = messages();
    assertThat(lines).isNotEmpty();
    for (String secret : List.of(SECRET, "wrong-secret-value-42", "tok-1", "tok-2")) {
      assertThat(lines).noneMatch(line -> line.contains(secret));
    }
    assertThat(((HttpDestination) flow).settings().toString())
        .doesNotContain(SECRET)
        .contains("client_id=" + APP);
    assertThat(new HttpAuth.Bearer("static-token-1").toString()).doesNotContain("static-token-1");
    assertThat(new HttpAuth.Basic("u", "pass-word-1").toString()).doesNotContain("pass-word-1");
  }

  @Test
  void throughAGatewayOneTokenServesEveryDeliveryAndNoLineShowsIt(@TempDir Path dir)
      throws Exception {
    FakeTokenEndpoint entra = entra();
    String yaml =
        """
        sources:
          calls:
            verify: { scheme: none }
        routes:
          to-flow:
            from: calls
            transform: '{ "ticket": ticket }'
            to: flow
        destinations:
          flow:
            type: http
            url: ${API}/flows/{ticket}/invoke?api-version=1&event={$eventId}
            auth:
              type: oauth2-client-credentials
              token_url: ${TOKEN_URL}
              client_id: %s
              client_secret: ${FLOW_SECRET}
              scope: %s
        """
            .formatted(APP, SCOPE);
    try (GatewayFixture gw =
        GatewayFixture.start(
            dir,
            yaml,
            Map.of(
                "API", api.uri("").toString(),
                "TOKEN_URL", entra.tokenUrl().toString(),
                "FLOW_SECRET", SECRET),
            clock)) {
      List<String> events = new ArrayList<>();
      for (String ticket : List.of("T-1", "a/b", "../c?d#e")) {
        HttpResponse<String> r =
            gw.post("calls", GatewayFixture.utf8("{\"ticket\":\"" + ticket + "\"}"), Map.of());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        events.add(new ObjectMapper().readTree(r.body()).path("eventId").asText());
      }

      await().atMost(Duration.ofSeconds(15)).until(() -> api.requests().size() == 3);
      assertThat(api.requests())
          .extracting(Request::pathAndQuery)
          .containsExactlyInAnyOrder(
              "/flows/T-1/invoke?api-version=1&event=" + events.get(0),
              "/flows/a%2Fb/invoke?api-version=1&event=" + events.get(1),
              "/flows/..%2Fc%3Fd%23e/invoke?api-version=1&event=" + events.get(2));
      assertThat(api.requests())
          .allSatisfy(r -> assertThat(r.header("Authorization")).isEqualTo("Bearer tok-1"));
      assertThat(entra.requests()).hasSize(1);
    }
    assertThat(messages()).isNotEmpty().noneMatch(m -> m.contains(SECRET) || m.contains("tok-1"));
  }

  List<String> messages() {
    synchronized (logged) {
      return logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }
  }
}
