package dev.switchboard.destination.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.switchboard.config.EnrichPath;
import dev.switchboard.config.RateLimit;
import dev.switchboard.destination.Enricher.Lookup;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.DestinationConfigs;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeTokenEndpoint;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code http} enricher against a local contacts API behind a Genesys-style token endpoint,
 * alone and as the lookup of "find the contact by phone; update it if found, create a case if not"
 * in a whole gateway.
 */
@Timeout(60)
class HttpEnricherIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String KNOWN = "+49 30/1234?5";

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-12-07T10:00:00Z"));
  final FakeTokenEndpoint login = FakeTokenEndpoint.genesys("crm-client", "crm-secret-value");
  final ContactsApi contacts = new ContactsApi(login);
  final FakeDestination tickets = new FakeDestination();
  final OAuthSessions sessions = new OAuthSessions(clock);
  HttpEnricher enricher;
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (enricher != null) {
      enricher.close();
    }
    if (gw != null) {
      gw.close();
    }
    sessions.close();
    contacts.close();
    login.close();
    tickets.close();
  }

  HttpEnricher enricher(String secret) {
    Map<String, Object> auth = new LinkedHashMap<>();
    auth.put("type", "oauth2-client-credentials");
    auth.put("token_url", login.tokenUrl().toString());
    auth.put("client_id", "crm-client");
    auth.put("client_secret", secret);
    auth.put("client_auth", "basic");
    Map<String, Object> keys = new LinkedHashMap<>();
    keys.put("url", contacts.uri("/api/").toString());
    keys.put("auth", auth);
    keys.put("headers", Map.of("X-Api-Version", "2"));
    keys.put("timeout", "2s");
    enricher =
        new HttpEnricher(
            DestinationConfigs.enricher("crm", "http", keys, (RateLimit) null), clock, sessions);
    return enricher;
  }

  static String path(String phone) {
    return "/contacts/" + EnrichPath.encodeSegment(phone);
  }

  @Test
  void aFoundRecordIsItsJsonAndOneTokenServesManyLookups() {
    contacts.knows(KNOWN, "{\"id\":\"C-7\",\"name\":\"Ada\"}");
    HttpEnricher e = enricher("crm-secret-value");

    Lookup first = e.get(path(KNOWN));
    Lookup second = e.get(path(KNOWN));

    assertThat(first).isEqualTo(new Lookup.Found(Map.of("id", "C-7", "name", "Ada")));
    assertThat(second).isEqualTo(first);
    assertThat(login.issued()).containsExactly("tok-1");
    assertThat(contacts.calls())
        .hasSize(2)
        .allSatisfy(
            c -> {
              assertThat(c.rawPath()).isEqualTo("/api/contacts/%2B49%2030%2F1234%3F5");
              assertThat(c.authorization()).isEqualTo("Bearer tok-1");
              assertThat(c.apiVersion()).isEqualTo("2");
            });
  }

  @Test
  void notFoundIsFoundAsNullSoTheRouteCanDecide() {
    assertThat(enricher("crm-secret-value").get(path("+1 555"))).isEqualTo(new Lookup.Found(null));
  }

  @Test
  void answersAreClassified() {
    HttpEnricher e = enricher("crm-secret-value");

    contacts.answerNext(429, "7");
    assertThat(e.get(path(KNOWN)))
        .isEqualTo(new Lookup.RetryLater("http 429", 429, Duration.ofSeconds(7)));
    contacts.answerNext(503, null);
    assertThat(e.get(path(KNOWN))).isEqualTo(new Lookup.RetryLater("http 503", 503, null));
    contacts.answerNext(403, null);
    assertThat(e.get(path(KNOWN))).isEqualTo(new Lookup.Failed("http 403", 403));
  }

  @Test
  void aRevokedTokenIsRenewedOnceThenA401Fails() {
    contacts.knows(KNOWN, "{\"id\":\"C-7\"}");
    HttpEnricher e = enricher("crm-secret-value");
    e.get(path(KNOWN));

    contacts.revokeTokens();
    assertThat(e.get(path(KNOWN))).isInstanceOf(Lookup.Found.class);
    assertThat(login.issued()).containsExactly("tok-1", "tok-2");

    contacts.answerNext(401, null);
    contacts.answerNext(401, null);
    assertThat(e.get(path(KNOWN))).isEqualTo(new Lookup.Failed("http 401", 401));
  }

  @Test
  void aRefusedClientIsRetriedWithoutTheSecret() {
    Lookup result = enricher("wrong-secret-value").get(path(KNOWN));

    assertThat(result)
        .isInstanceOfSatisfying(
            Lookup.RetryLater.class,
            r -> assertThat(r.error()).startsWith("auth: oauth 401").doesNotContain("wrong"));
    assertThat(contacts.calls()).isEmpty();
  }

  // ---- as a route step in a gateway

  void startGateway() throws Exception {
    String yaml =
        """
        sources:
          calls:
            verify: { scheme: none }
            idempotency: { key: id }
        enrichers:
          crm:
            type: http
            url: ${CRM_API}/api
            auth:
              type: oauth2-client-credentials
              token_url: ${CRM_LOGIN}
              client_id: crm-client
              client_secret: ${CRM_SECRET}
              client_auth: basic
        routes:
          update-contact:
            from: calls
            enrich: { using: crm, path: "/contacts/{caller.phone}", as: contact }
            when_enriched: $exists($contact)
            method: PATCH
            transform: '{ "lastCall": id }'
            to: contacts
          create-case:
            from: calls
            enrich: { using: crm, path: "/contacts/{caller.phone}", as: contact }
            when_enriched: $not($exists($contact))
            transform: '{ "phone": caller.phone, "call": id }'
            to: cases
        destinations:
          contacts:
            type: http
            url: ${TICKETS}/v1/contacts/{$contact.id}
            headers: { X-Call: "{$eventId}" }
          cases:
            type: http
            url: ${TICKETS}/v1/cases?phone={phone}
        """;
    gw =
        GatewayFixture.start(
            dir,
            yaml,
            Map.of(
                "CRM_API", contacts.uri("").toString(),
                "CRM_LOGIN", login.tokenUrl().toString(),
                "CRM_SECRET", "crm-secret-value",
                "TICKETS", tickets.uri("").toString()),
            clock);
  }

  String post(String id, String phone) throws Exception {
    String body = JSON.writeValueAsString(Map.of("id", id, "caller", Map.of("phone", phone)));
    HttpResponse<String> r = gw.post("calls", body.getBytes(StandardCharsets.UTF_8), Map.of());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  DeliveryRecord delivery(String eventId, String route) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).stream()
        .filter(d -> d.route().equals(route))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void aFoundContactIsUpdatedAndAMissingOneGetsACaseThroughAGateway() throws Exception {
    contacts.knows(KNOWN, "{\"id\":\"C/7\"}");
    startGateway();

    String known = post("call-1", KNOWN);
    String unknown = post("call-2", "+1 555 0100");

    await().atMost(Duration.ofSeconds(15)).until(() -> tickets.requests().size() == 2);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                delivery(known, "create-case").state() == DeliveryState.SKIPPED
                    && delivery(unknown, "update-contact").state() == DeliveryState.SKIPPED);
    assertThat(delivery(known, "update-contact").state()).isEqualTo(DeliveryState.DELIVERED);
    assertThat(delivery(unknown, "create-case").state()).isEqualTo(DeliveryState.DELIVERED);

    FakeDestination.Request update =
        tickets.requests().stream()
            .filter(r -> r.method().equals("PATCH"))
            .findFirst()
            .orElseThrow();
    assertThat(update.pathAndQuery()).isEqualTo("/v1/contacts/C%2F7");
    assertThat(update.header("X-Call")).isEqualTo(known);
    assertThat(JSON.readTree(update.body()).path("lastCall").asText()).isEqualTo("call-1");
    FakeDestination.Request create =
        tickets.requests().stream()
            .filter(r -> r.method().equals("POST"))
            .findFirst()
            .orElseThrow();
    assertThat(create.pathAndQuery()).isEqualTo("/v1/cases?phone=%2B1%20555%200100");
    // four lookups (two routes, two events) through one token
    assertThat(contacts.calls()).hasSize(4);
    assertThat(login.issued()).hasSize(1);
  }

  /**
   * A contacts API: {@code GET /api/contacts/<phone>} answers a known contact's JSON or 404, with a
   * token the login issued and not revoked (else 401); scripted statuses go first.
   */
  static final class ContactsApi implements AutoCloseable {
    record Call(String rawPath, String authorization, String apiVersion) {}

    private final FakeTokenEndpoint login;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, String> known = new ConcurrentHashMap<>();
    private final List<Call> calls = new CopyOnWriteArrayList<>();
    private final List<String> revoked = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<String[]> script = new ConcurrentLinkedQueue<>();

    ContactsApi(FakeTokenEndpoint login) {
      this.login = login;
      try {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      server.setExecutor(executor);
      server.createContext("/", this::handle);
      server.start();
    }

    URI uri(String path) {
      return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    void knows(String phone, String json) {
      known.put(phone, json);
    }

    void revokeTokens() {
      revoked.addAll(login.issued());
    }

    void answerNext(int status, String retryAfter) {
      script.add(new String[] {Integer.toString(status), retryAfter});
    }

    List<Call> calls() {
      return List.copyOf(calls);
    }

    @Override
    public void close() {
      server.stop(0);
      executor.shutdownNow();
    }

    private void handle(HttpExchange x) throws IOException {
      try (x) {
        String authorization = x.getRequestHeaders().getFirst("Authorization");
        calls.add(
            new Call(
                x.getRequestURI().getRawPath(),
                authorization,
                x.getRequestHeaders().getFirst("X-Api-Version")));
        String[] scripted = script.poll();
        if (scripted != null) {
          if (scripted[1] != null) {
            x.getResponseHeaders().set("Retry-After", scripted[1]);
          }
          send(x, Integer.parseInt(scripted[0]), "{\"error\":\"scripted\"}");
          return;
        }
        String token =
            authorization != null && authorization.startsWith("Bearer ")
                ? authorization.substring(7)
                : null;
        if (token == null || !login.issued().contains(token) || revoked.contains(token)) {
          send(x, 401, "{\"error\":\"invalid_token\"}");
          return;
        }
        String prefix = "/api/contacts/";
        String path = x.getRequestURI().getPath(); // decoded: the phone as the event had it
        String json = path.startsWith(prefix) ? known.get(path.substring(prefix.length())) : null;
        if (json == null) {
          send(x, 404, "{\"error\":\"not_found\"}");
        } else {
          send(x, 200, json);
        }
      }
    }

    private static void send(HttpExchange x, int status, String json) throws IOException {
      byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
      x.getResponseHeaders().set("Content-Type", "application/json");
      x.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = x.getResponseBody()) {
        out.write(bytes);
      }
    }
  }
}
