package dev.switchboard.destination.genesys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.app.Gateway;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.demo.genesys.FakeGenesysCloud;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.testing.GatewayFixture;
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
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract example {@code genesys-cloud-to-everything.yaml}, served as it is with Genesys
 * Cloud's URLs pointing at {@link FakeGenesysCloud}: its {@code outcome-to-conversation} route
 * writes a data action's outcome back onto the conversation's customer participant, and a
 * disposition the route does not take writes nothing.
 */
class ContractWriteBackIT {
  static final String DA_PASSWORD = "da-password-4c1e";

  @TempDir Path dir;

  @Test
  void theDataActionsOutcomeIsWrittenOntoTheConversation() throws Exception {
    try (FakeGenesysCloud genesys = FakeGenesysCloud.start("contract-client", "contract-secret");
        HttpClient client = HttpClient.newHttpClient()) {
      String conversation =
          genesys
              .conversation(
                  "0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
                  Instant.parse("2026-10-27T14:10:00Z"),
                  Instant.parse("2026-10-27T14:29:00Z"),
                  "RESOLVED")
              .conversationId();
      Gateway gateway =
          Gateway.start(
              ConfigLoader.load(
                  GatewayFixture.EXAMPLES.resolve("genesys-cloud-to-everything.yaml"),
                  env(genesys.baseUrl().toString())),
              Clock.systemUTC());
      try {
        String payload =
            Files.readString(GatewayFixture.EXAMPLES.resolve("payloads/disposition-updated.json"));
        String resolved = payload.replace("a7d4c2e9-1b38-4f6a-8e25-9c0d3b7a6f42", conversation);
        String other =
            resolved
                .replace("\"RESOLVED\"", "\"CALLBACK\"")
                .replace("5e9b1d7c-3a26-4f80-b4c1-7d2e8a9f0c35", "another-interaction");
        HttpResponse<String> skipped = post(client, gateway, other);
        assertThat(skipped.statusCode()).isEqualTo(202);
        assertThat(post(client, gateway, resolved).statusCode()).isEqualTo(202);
        String skippedId =
            new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(skipped.body())
                .path("eventId")
                .asText();
        assertThat(
                gateway.deliveries().deliveriesOf(new EventId(skippedId)).stream()
                    .filter(d -> d.route().equals("outcome-to-conversation"))
                    .map(d -> d.state()))
            .containsExactly(DeliveryState.SKIPPED);

        String customer = genesys.customerOf(conversation);
        await("the outcome on the customer participant")
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    "RESOLVED"
                        .equals(
                            genesys
                                .attributesOf(conversation, customer)
                                .get("switchboardOutcome")));
        assertThat(genesys.tokensIssued()).as("one token for the client").isEqualTo(1);
      } finally {
        gateway.close();
      }
    }
  }

  private static HttpResponse<String> post(HttpClient client, Gateway gateway, String body)
      throws Exception {
    String credentials =
        Base64.getEncoder()
            .encodeToString(("switchboard:" + DA_PASSWORD).getBytes(StandardCharsets.UTF_8));
    return client.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.port() + "/hooks/genesys-workflow"))
            .header("Content-Type", "application/json")
            .header("Authorization", "Basic " + credentials)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private Map<String, String> env(String genesys) {
    Map<String, String> env = new HashMap<>();
    env.put("PORT", "0");
    env.put("DATA_DIR", dir.toString());
    env.put("SWITCHBOARD_ADMIN_TOKEN", "admin");
    env.put("EVENTBRIDGE_API_KEY", "eb-key");
    env.put("GENESYS_OM_SECRET", "om-secret");
    env.put("GENESYS_DATA_ACTION_PASSWORD", DA_PASSWORD);
    env.put("GENESYS_CLIENT_ID", "contract-client");
    env.put("GENESYS_CLIENT_SECRET", "contract-secret");
    env.put("GENESYS_LOGIN_URL", genesys);
    env.put("GENESYS_API_URL", genesys);
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
    return env;
  }
}
