package dev.switchboard.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.app.Gateway;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The contract example {@code genesys-cloud-to-everything.yaml}, served as it is, receiving
 * Genesys's real payload shapes the way Genesys sends them.
 */
class GenesysSourcesIT {
  static final Path SAMPLES = GatewayFixture.GENESYS_SAMPLES;
  static final ObjectMapper JSON = new ObjectMapper();
  static final String API_KEY = "eb-api-key-7c1f";
  static final String OM_SECRET = "om-secret-51aa";
  static final String DA_PASSWORD = "da-password-90be";

  @TempDir static Path dir;
  static Gateway gateway;
  static HttpClient client = HttpClient.newHttpClient();
  static ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeAll
  static void start() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("PORT", "0");
    env.put("DATA_DIR", dir.toString());
    env.put("SWITCHBOARD_ADMIN_TOKEN", "admin");
    env.put("EVENTBRIDGE_API_KEY", API_KEY);
    env.put("GENESYS_OM_SECRET", OM_SECRET);
    env.put("GENESYS_DATA_ACTION_PASSWORD", DA_PASSWORD);
    env.put("GENESYS_CLIENT_ID", "client");
    env.put("GENESYS_CLIENT_SECRET", "client-secret");
    env.put("TRACKING_DB_URL", "jdbc:postgresql://127.0.0.1:9/crm");
    env.put("TRACKING_DB_USER", "u");
    env.put("TRACKING_DB_PASSWORD", "p");
    env.put("JIRA_BASE_URL", "http://127.0.0.1:9/jira");
    env.put("JIRA_EMAIL", "ops@example.invalid");
    env.put("JIRA_API_TOKEN", "jira-token");
    env.put("POWER_AUTOMATE_FLOW_A_URL", "http://127.0.0.1:9/flow?sig=abc");
    env.put("ZAPIER_HOOK_URL", "http://127.0.0.1:9/zap");
    env.put("PARTNER_WEBHOOK_URL", "http://127.0.0.1:9/partner");
    env.put("PARTNER_SIGNING_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    logs.start();
    root.addAppender(logs);
    gateway =
        Gateway.start(
            ConfigLoader.load(
                GatewayFixture.EXAMPLES.resolve("genesys-cloud-to-everything.yaml"), env),
            Clock.systemUTC());
  }

  @AfterAll
  static void stop() {
    gateway.close();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
  }

  static HttpResponse<String> post(String source, byte[] body, Map<String, String> headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.port() + "/hooks/" + source))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(b::header);
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static Event stored(HttpResponse<String> response) throws Exception {
    String id = JSON.readTree(response.body()).path("eventId").asText();
    return gateway.store().findEvent(new EventId(id)).orElseThrow();
  }

  @Test
  void eventBridgeAcwEventWithItsApiKeyIsStoredWithEpochMillisEventTime() throws Exception {
    byte[] body = Files.readAllBytes(SAMPLES.resolve("eventbridge-acw.json"));
    HttpResponse<String> response = post("genesys-eventbridge", body, Map.of("X-Api-Key", API_KEY));
    assertThat(response.statusCode()).isEqualTo(202);
    Event event = stored(response);
    assertThat(event.idempotencyKey()).isEqualTo("3f9c1d2e-7a41-2b6c-9e05-1d2c3b4a5f60");
    assertThat(event.partitionKey()).isEqualTo("6a1f0c3e-2b7d-4e59-8c14-9d0a7b3e5f21");
    assertThat(event.eventTime()).isEqualTo(Instant.ofEpochMilli(1776161731842L));
    assertThat(event.payload())
        .as("a body nothing was redacted from is stored exactly as received")
        .isEqualTo(new String(body, StandardCharsets.UTF_8));

    assertThat(post("genesys-eventbridge", body, Map.of("X-Api-Key", API_KEY)).statusCode())
        .isEqualTo(200);
    assertThat(post("genesys-eventbridge", body, Map.of("X-Api-Key", "wrong")).statusCode())
        .isEqualTo(401);
  }

  @Test
  void openMessagingWebhookSignedLikeGenesysIsAccepted() throws Exception {
    byte[] body = Files.readAllBytes(SAMPLES.resolve("open-messaging-outbound-text.json"));
    String signature = "sha256=" + Hmac.sha256Base64(OM_SECRET, body);
    HttpResponse<String> response =
        post("genesys-messaging", body, Map.of("X-Hub-Signature-256", signature));
    assertThat(response.statusCode()).isEqualTo(202);
    Event event = stored(response);
    assertThat(event.eventTime()).isEqualTo(Instant.parse("2026-04-14T10:12:44.318Z"));

    String reserialised =
        "sha256=" + Hmac.sha256Base64(OM_SECRET, JSON.writeValueAsBytes(JSON.readTree(body)));
    assertThat(
            post("genesys-messaging", body, Map.of("X-Hub-Signature-256", reserialised))
                .statusCode())
        .as("only the raw bytes are signed")
        .isEqualTo(401);
  }

  @Test
  void dataActionWithStaticBasicCredentialsIsAccepted() throws Exception {
    byte[] body =
        Files.readAllBytes(GatewayFixture.EXAMPLES.resolve("payloads/disposition-updated.json"));
    String good =
        "Basic "
            + Base64.getEncoder()
                .encodeToString(("switchboard:" + DA_PASSWORD).getBytes(StandardCharsets.UTF_8));
    String bad =
        "Basic "
            + Base64.getEncoder()
                .encodeToString("switchboard:guess".getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> response = post("genesys-workflow", body, Map.of("Authorization", good));
    assertThat(response.statusCode()).isEqualTo(202);
    assertThat(stored(response).partitionKey()).isEqualTo("5e9b1d7c-3a26-4f80-b4c1-7d2e8a9f0c35");
    assertThat(stored(response).headers()).doesNotContainKey("authorization");
    assertThat(post("genesys-workflow", body, Map.of("Authorization", bad)).statusCode())
        .isEqualTo(401);
  }

  @Test
  void logsNeverCarryASecretASignatureOrAPayload() throws Exception {
    byte[] body =
        Files.readString(SAMPLES.resolve("open-messaging-outbound-text.json"))
            .replace("\"id\": \"5c1e9a7b3d2f4e6a8b0c2d4e6f8a0b1c\"", "\"id\": \"log-test-message\"")
            .getBytes(StandardCharsets.UTF_8);
    String signature = "sha256=" + Hmac.sha256Base64(OM_SECRET, body);
    post("genesys-messaging", body, Map.of("X-Hub-Signature-256", signature));
    post(
        "genesys-messaging",
        body,
        Map.of("X-Hub-Signature-256", "sha256=AAAA" + signature.substring(11)));
    post("genesys-eventbridge", utf8("{\"id\": not json"), Map.of("X-Api-Key", API_KEY));
    String all =
        String.join(
            "\n",
            logs.list.stream()
                .map(e -> e.getFormattedMessage() + " " + e.getMDCPropertyMap())
                .toList());
    assertThat(all).isNotBlank();
    assertThat(all)
        .doesNotContain(OM_SECRET)
        .doesNotContain(API_KEY)
        .doesNotContain(DA_PASSWORD)
        .doesNotContain(signature.substring(7))
        .doesNotContain("how can I help")
        .doesNotContain("not json");
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
