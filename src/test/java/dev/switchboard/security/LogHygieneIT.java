package dev.switchboard.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.FakeJira;
import dev.switchboard.testing.FakeSalesforce;
import dev.switchboard.testing.FakeSlack;
import dev.switchboard.testing.Hmac;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/guarantees.md ("Secrets and stopping"): no secret, signature, payload or URL query string in
 * the logs or in an error body. The packaged gateway runs in a child JVM at DEBUG level (its real
 * JSON log on stdout), with a credential of every kind the configuration can hold; the test drives
 * accepted and refused requests, deliveries that succeed, retry, dead-letter and get 4xx/5xx bodies
 * that echo the payload, admin calls with wrong tokens and a reload of a broken file; then it stops
 * the gateway and scans everything it printed and every error body it answered.
 */
class LogHygieneIT {
  static final String MARKER = "PAYLOAD-MARKER-7f3a";
  static final String PHONE = "+1-555-0142-9981";
  static final String EMAIL = "marker.caller@example.org";

  static final String ADMIN_TOKEN = "adm1n-T0KEN-5ecret-9c1d";
  static final String HMAC_SECRET = "hmac-5ecret-4b7e-value";
  static final String BASIC_PASSWORD = "ba5ic-pa55word-2e8f";
  static final String API_KEY = "ap1-KEY-5ecret-61aa";
  static final String BEARER = "bear3r-5ecret-0d2c";
  static final String WHSEC_BYTES =
      Base64.getEncoder()
          .encodeToString("in-whsec-5ecret-key-!".getBytes(StandardCharsets.US_ASCII));
  static final String WHSEC = "whsec_" + WHSEC_BYTES;
  static final String OUT_WHSEC =
      "whsec_"
          + Base64.getEncoder()
              .encodeToString("out-whsec-5ecret-key".getBytes(StandardCharsets.US_ASCII));
  static final String OUT_HEADER_TOKEN = "0utb0und-header-5ecret";
  static final String QS_CODE = "QS-code-5ecret-77";
  static final String QS_SIG = "QS-sig-5ecret-88aa";
  static final String SF_CLIENT_SECRET = "sf-client-5ecret-3a9b";
  static final String JIRA_TOKEN = "j1ra-api-TOKEN-5ecret";

  @TempDir Path dir;
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  final Clock clock = Clock.systemUTC();
  final FakeDestination ok = new FakeDestination();
  final FakeDestination flaky = new FakeDestination();
  final FakeDestination refusing = new FakeDestination();
  final FakeDestination broken = new FakeDestination();
  final FakeSalesforce salesforce = new FakeSalesforce("sf-client", SF_CLIENT_SECRET);
  final FakeSlack slack = new FakeSlack(clock);
  final FakeJira jira = new FakeJira(clock, "ops@example.com", JIRA_TOKEN);
  final List<String> signatures = new ArrayList<>();
  final Map<String, String> errorBodies = new LinkedHashMap<>();
  Process child;
  int port;

  @AfterEach
  void stop() throws Exception {
    if (child != null && child.isAlive()) {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    ok.close();
    flaky.close();
    refusing.close();
    broken.close();
    salesforce.close();
    slack.close();
    jira.close();
    client.close();
  }

  @Test
  void noSecretSignaturePayloadOrQueryStringReachesTheLogsOrAnErrorBody() throws Exception {
    String echo = "{\"echo\":{\"note\":\"" + MARKER + "\",\"phone\":\"" + PHONE + "\"}}";
    flaky.answer(Answer.status(503).body(echo), Answer.status(503).body(echo));
    refusing.answerByDefault(Answer.status(422).body(echo));
    broken.answerByDefault(Answer.status(500).body(echo));
    salesforce.defineObject("Disposition_Log__c", "a0X").externalId("Interaction_ID__c");
    salesforce.failNext(400, "INVALID_FIELD", "bad value " + MARKER + " " + EMAIL);
    FakeSlack.Hook hook = slack.hook().failNext(500, "rollup_error");
    String query = "?api-version=1&code=" + QS_CODE + "&sig=" + QS_SIG;
    Map<String, String> env = new LinkedHashMap<>();
    env.put("ADMIN_TOKEN", ADMIN_TOKEN);
    env.put("HMAC_SECRET", HMAC_SECRET);
    env.put("BASIC_PASSWORD", BASIC_PASSWORD);
    env.put("API_KEY", API_KEY);
    env.put("BEARER_TOKEN", BEARER);
    env.put("WHSEC", WHSEC);
    env.put("OUT_WHSEC", OUT_WHSEC);
    env.put("OUT_HEADER_TOKEN", OUT_HEADER_TOKEN);
    env.put("OK_URL", ok.uri("/flow/invoke") + query);
    env.put("FLAKY_URL", flaky.uri("/zap/catch") + query);
    env.put("REFUSING_URL", refusing.uri("/hook") + query);
    env.put("BROKEN_URL", broken.uri("/hook") + query);
    env.put("UNREACHABLE_URL", "http://127.0.0.1:" + ChildGateway.freePort() + "/x" + query);
    env.put("SF_URL", salesforce.url());
    env.put("SF_CLIENT_SECRET", SF_CLIENT_SECRET);
    env.put("SLACK_URL", hook.uri().toString());
    env.put("JIRA_URL", jira.baseUrl().toString());
    env.put("JIRA_TOKEN", JIRA_TOKEN);
    Path config = dir.resolve("switchboard.yaml");
    Files.writeString(config, yaml());
    startChild(config, env);

    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String body = payload("i-" + i, "FAILED");
      accepted.add(postHmac("calls", body, Hmac.sha256Hex(HMAC_SECRET, bytes(body)), 202));
      accepted.add(postWith("basic", body, "Authorization", basic(BASIC_PASSWORD), 202));
      accepted.add(postWith("apikey", body, "X-Api-Key", API_KEY, 202));
      accepted.add(postWith("bearer", body, "Authorization", "Bearer " + BEARER, 202));
      accepted.add(postStandard(body, WHSEC_BYTES, 202));
    }
    // refused: wrong signatures and credentials (401), bad JSON (400), wrong content type (415)
    String body = payload("i-refused", "RESOLVED");
    postHmac("calls", body, Hmac.sha256Hex("not-the-" + HMAC_SECRET, bytes(body)), 401);
    postHmac("calls", body, "sha256=" + Hmac.sha256Hex(HMAC_SECRET, bytes(body)) + "00", 401);
    postWith("basic", body, "Authorization", basic(BASIC_PASSWORD + "x"), 401);
    postWith("apikey", body, "X-Api-Key", API_KEY + "x", 401);
    postWith("bearer", body, "Authorization", "Bearer " + BEARER + "x", 401);
    postStandard(body, Base64.getEncoder().encodeToString(bytes("wrong-key-entirely")), 401);
    String badJson = "{\"note\":\"" + MARKER + "\",\"phone\":\"" + PHONE + "\",";
    postHmac("calls", badJson, Hmac.sha256Hex(HMAC_SECRET, bytes(badJson)), 400);
    postWith("apikey", badJson, "X-Api-Key", API_KEY, 400);
    String noKey = "{\"note\":\"" + MARKER + "\",\"email\":\"" + EMAIL + "\"}";
    postWith("apikey", noKey, "X-Api-Key", API_KEY, 400);

    // admin API: wrong tokens and a token in the query string are refused
    admin("GET", "/api/v1/events", null, 401);
    admin("GET", "/api/v1/events", "Bearer " + ADMIN_TOKEN + "x", 401);
    admin("GET", "/api/v1/events?token=" + ADMIN_TOKEN, null, 401);
    admin("GET", "/api/v1/events?access_token=" + ADMIN_TOKEN, null, 401);
    admin("GET", "/api/v1/events?sorce=calls", "Bearer " + ADMIN_TOKEN, 400);
    admin("GET", "/api/v1/events/evt_" + "0".repeat(32), "Bearer " + ADMIN_TOKEN, 404);

    // every delivery reaches its end: delivered, or dead after 4xx / retries of 5xx
    await()
        .atMost(Duration.ofSeconds(40))
        .pollInterval(Duration.ofMillis(200))
        .untilAsserted(
            () -> {
              assertThat(ok.requests()).hasSizeGreaterThanOrEqualTo(3);
              assertThat(flaky.requests()).hasSizeGreaterThanOrEqualTo(8);
              assertThat(refusing.requests()).hasSizeGreaterThanOrEqualTo(3);
              assertThat(broken.requests()).hasSizeGreaterThanOrEqualTo(6);
              assertThat(hook.messages()).hasSize(3);
              assertThat(jira.issues()).hasSize(3);
              assertThat(salesforce.records("Disposition_Log__c")).isNotEmpty();
              assertThat(deadLetters("refusing")).contains("\"matched\":3");
              assertThat(deadLetters("broken")).contains("\"matched\":3");
              assertThat(deadLetters("unreachable")).contains("\"matched\":3");
              assertThat(deadLetters("power-automate")).contains("\"matched\":3");
            });

    // a reload of a broken file is refused with problems that name keys, never values
    Files.writeString(
        config,
        yaml()
            .replace("url: ${OK_URL}", "url: \"ftp://example.invalid/x?code=" + QS_CODE + "\"")
            .replace("method: POST", "mehtod: " + MARKER));
    admin("POST", "/api/v1/config/reload", "Bearer " + ADMIN_TOKEN, 422);
    // SIGHUP logs each problem of the refused file
    Path log = dir.resolve("child-hygiene.log");
    new ProcessBuilder("kill", "-HUP", Long.toString(child.pid())).start().waitFor();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Files.readString(log).contains("configuration problem: "));

    HttpResponse<String> metrics = get("/metrics");
    child.destroy(); // SIGTERM: the graceful shutdown logs too
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String logged = Files.readString(log);

    // the scan means something: the log is the JSON log, at DEBUG, about this run
    assertThat(logged).contains("\"level\":\"DEBUG\"", "refused request", "switchboard stopped");
    assertThat(logged).contains("unreachable", "refusing", "zapier", "partition key expression");
    assertThat(errorBodies).hasSizeGreaterThanOrEqualTo(15);
    assertThat(signatures).hasSizeGreaterThanOrEqualTo(10);

    List<String> forbidden = new ArrayList<>(List.of(MARKER, PHONE, EMAIL, "0142-9981"));
    forbidden.addAll(
        List.of(
            ADMIN_TOKEN,
            HMAC_SECRET,
            BASIC_PASSWORD,
            basic(BASIC_PASSWORD).substring("Basic ".length()),
            API_KEY,
            BEARER,
            WHSEC,
            WHSEC_BYTES,
            OUT_WHSEC,
            OUT_WHSEC.substring("whsec_".length()),
            OUT_HEADER_TOKEN,
            QS_CODE,
            QS_SIG,
            SF_CLIENT_SECRET,
            JIRA_TOKEN,
            hook.uri().getPath()));
    forbidden.addAll(salesforce.tokensIssued());
    assertThat(salesforce.tokensIssued()).isNotEmpty();
    forbidden.addAll(signatures);
    forbidden.addAll(
        flaky.requests().stream()
            .map(r -> r.header("webhook-signature"))
            .filter(s -> s != null)
            .toList());
    for (String secret : forbidden) {
      assertThat(logged).as("the log must not contain %s", secret).doesNotContain(secret);
      errorBodies.forEach(
          (request, answer) ->
              assertThat(answer).as("error body of %s", request).doesNotContain(secret));
      assertThat(metrics.body()).as("/metrics").doesNotContain(secret);
    }
  }

  // ------------------------------------------------------------------ set-up

  static String yaml() {
    return """
        server:
          host: 127.0.0.1
          port: ${PORT}
          shutdown_grace: 2s
        store:
          path: ${DATA_DIR}/switchboard.db
        admin:
          token: ${ADMIN_TOKEN}
        sources:
          calls:
            verify: { scheme: hmac-sha256-hex, header: X-Signature, secrets: ["${HMAC_SECRET}"] }
            idempotency: { key: interactionId & '|' & timestamp }
            partition_key: interactionId
          basic:
            verify: { scheme: basic, secrets: ["genesys:${BASIC_PASSWORD}"] }
            idempotency: { key: interactionId }
          apikey:
            verify: { scheme: api-key, header: X-Api-Key, secrets: ["${API_KEY}"] }
            idempotency: { key: interactionId }
            # fails on every event; the error quotes the payload value it could not convert
            partition_key: $string($number(note))
          bearer:
            verify: { scheme: bearer, secrets: ["${BEARER_TOKEN}"] }
            idempotency: { key: interactionId }
          standard:
            verify: { scheme: standard-webhooks, secrets: ["${WHSEC}"] }
        routes:
          calls-to-flow: { from: calls, to: power-automate }
          calls-to-zapier: { from: calls, to: zapier }
          basic-to-zapier: { from: basic, to: zapier }
          apikey-to-refusing: { from: apikey, to: refusing }
          apikey-bad-transform:
            from: apikey
            to: power-automate
            transform: '{"n": $number(note), "e": $error(email)}'
          bearer-to-broken: { from: bearer, to: broken }
          bearer-to-unreachable: { from: bearer, to: unreachable }
          standard-to-slack:
            from: standard
            to: slack
            transform: '{"text": "call " & interactionId & " " & note}'
          basic-to-jira:
            from: basic
            to: jira
            transform: '{"summary": "Failed " & interactionId, "description": note & " " & email}'
          calls-to-salesforce:
            from: calls
            when: interactionId != "i-2"
            to: salesforce
            transform: '{"Interaction_ID__c": interactionId}'
        destinations:
          power-automate:
            type: http
            preset: power-automate
            method: POST
            url: ${OK_URL}
            headers: { Authorization: "Bearer ${OUT_HEADER_TOKEN}" }
          zapier:
            type: http
            url: ${FLAKY_URL}
            sign: { scheme: standard-webhooks, secret: "${OUT_WHSEC}" }
            retry: { initial: 100ms, max_delay: 200ms }
          refusing:
            type: http
            url: ${REFUSING_URL}
          broken:
            type: http
            url: ${BROKEN_URL}
            retry: { initial: 100ms, max_delay: 200ms, max_attempts: 2 }
            circuit_breaker: { failures: 1000, open_for: 1s }
          unreachable:
            type: http
            url: ${UNREACHABLE_URL}
            retry: { initial: 100ms, max_delay: 200ms, max_attempts: 2 }
          salesforce:
            type: salesforce
            login_url: ${SF_URL}
            client_id: sf-client
            client_secret: ${SF_CLIENT_SECRET}
            object: Disposition_Log__c
            external_id_field: Interaction_ID__c
            retry: { initial: 100ms, max_delay: 200ms }
          slack:
            type: slack
            url: ${SLACK_URL}
            rate_limit: 100/second
            retry: { initial: 100ms, max_delay: 200ms }
          jira:
            type: jira
            base_url: ${JIRA_URL}
            email: ops@example.com
            api_token: ${JIRA_TOKEN}
            project: OPS
        """;
  }

  void startChild(Path config, Map<String, String> env) throws Exception {
    port = ChildGateway.freePort();
    String jar = System.getProperty("switchboard.jar", "target/switchboard.jar");
    assertThat(Path.of(jar)).as("the packaged jar (failsafe runs after package)").exists();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(java, "-Xmx384m", "-jar", jar, "serve", "--config", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("child-hygiene.log").toFile());
    pb.environment().putAll(env);
    pb.environment().put("PORT", Integer.toString(port));
    pb.environment().put("DATA_DIR", dir.toString());
    pb.environment().put("SWITCHBOARD_LOG_LEVEL", "DEBUG");
    child = pb.start();
    ChildGateway.awaitReady(client, port);
  }

  // ------------------------------------------------------------------ requests

  static String payload(String interactionId, String code) {
    return """
        {"interactionId":"%s","timestamp":"2026-11-23T10:00:00Z","note":"%s","phone":"%s",\
        "email":"%s","disposition":{"code":"%s"}}"""
        .formatted(interactionId, MARKER, PHONE, EMAIL, code);
  }

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  static String basic(String password) {
    return "Basic " + Base64.getEncoder().encodeToString(bytes("genesys:" + password));
  }

  String postHmac(String source, String body, String signature, int expected) throws Exception {
    signatures.add(signature);
    return postWith(source, body, "X-Signature", signature, expected);
  }

  String postWith(String source, String body, String header, String value, int expected)
      throws Exception {
    return post(source, body, Map.of(header, value), expected);
  }

  String postStandard(String body, String keyBase64, int expected) throws Exception {
    String id = "msg_" + Integer.toHexString(body.hashCode()) + "_" + signatures.size();
    String timestamp = Long.toString(Instant.now().getEpochSecond());
    byte[] signed = bytes(id + "." + timestamp + "." + body);
    String signature =
        "v1,"
            + Base64.getEncoder()
                .encodeToString(
                    Hmac.mac("HmacSHA256", Base64.getDecoder().decode(keyBase64), signed));
    signatures.add(signature.substring(3));
    return post(
        "standard",
        body,
        Map.of("webhook-id", id, "webhook-timestamp", timestamp, "webhook-signature", signature),
        expected);
  }

  String post(String source, String body, Map<String, String> headers, int expected)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri("/hooks/" + source))
            .timeout(Duration.ofSeconds(20))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(request::header);
    HttpResponse<String> r = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(source + " " + r.body()).isEqualTo(expected);
    if (expected >= 400) {
      errorBodies.put(
          "#" + errorBodies.size() + " POST /hooks/" + source + " " + headers.keySet(), r.body());
    }
    return r.body();
  }

  String deadLetters(String destination) throws Exception {
    String dryRun = "{\"destination\":\"" + destination + "\",\"dryRun\":true}";
    return admin("POST", "/api/v1/dead-letters/replay", "Bearer " + ADMIN_TOKEN, dryRun, 200);
  }

  String admin(String method, String path, String authorization, int expected) throws Exception {
    return admin(method, path, authorization, null, expected);
  }

  String admin(String method, String path, String authorization, String body, int expected)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri(path))
            .timeout(Duration.ofSeconds(20))
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    HttpResponse<String> r = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(method + " " + path + " " + r.body()).isEqualTo(expected);
    if (expected >= 400) {
      errorBodies.put("#" + errorBodies.size() + " " + method + " " + path, r.body());
    }
    return r.body();
  }

  HttpResponse<String> get(String path) throws Exception {
    return client.send(
        HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }
}
