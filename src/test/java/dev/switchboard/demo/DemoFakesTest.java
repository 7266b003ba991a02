package dev.switchboard.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The demo's fakes speak Salesforce's and Slack's protocols (shapes from docs/connectors.md). */
class DemoFakesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private HttpResponse<String> send(
      String method, String url, String auth, String type, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(5))
            .header("Content-Type", type)
            .method(method, HttpRequest.BodyPublishers.ofString(body));
    if (auth != null) {
      b.header("Authorization", "Bearer " + auth);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void salesforceIssuesTokensAndUpsertsByExternalId() throws Exception {
    try (DemoSalesforce sf = new DemoSalesforce("cid", "secret", 0)) {
      String form = "application/x-www-form-urlencoded";
      HttpResponse<String> wrong =
          send(
              "POST",
              sf.url() + "/services/oauth2/token",
              null,
              form,
              "grant_type=client_credentials&client_id=cid&client_secret=nope");
      assertThat(wrong.statusCode()).isEqualTo(400);
      assertThat(JSON.readTree(wrong.body()).path("error").asText()).isEqualTo("invalid_client");

      HttpResponse<String> ok =
          send(
              "POST",
              sf.url() + "/services/oauth2/token",
              null,
              form,
              "grant_type=client_credentials&client_id=cid&client_secret=secret");
      assertThat(ok.statusCode()).isEqualTo(200);
      JsonNode token = JSON.readTree(ok.body());
      assertThat(token.path("instance_url").asText()).isEqualTo(sf.url());
      String bearer = token.path("access_token").asText();

      String path =
          sf.url() + "/services/data/v62.0/sobjects/Disposition_Log__c/Interaction_ID__c/";
      String json = "application/json";
      HttpResponse<String> unauthenticated = send("PATCH", path + "i-1", "bogus", json, "{}");
      assertThat(unauthenticated.statusCode()).isEqualTo(401);
      assertThat(unauthenticated.body()).contains("INVALID_SESSION_ID");
      assertThat(unauthenticated.headers().firstValue("Sforce-Limit-Info")).isPresent();

      String id = firstAcceptedId();
      HttpResponse<String> created = send("PATCH", path + id, bearer, json, "{\"A__c\":\"x\"}");
      assertThat(created.statusCode()).isEqualTo(201);
      assertThat(JSON.readTree(created.body()).path("created").asBoolean()).isTrue();
      HttpResponse<String> updated = send("PATCH", path + id, bearer, json, "{\"A__c\":\"y\"}");
      assertThat(updated.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(updated.body()).path("created").asBoolean()).isFalse();
      assertThat(sf.recordCount()).isEqualTo(1);

      String refusedId = firstRefusedId();
      HttpResponse<String> refused = send("PATCH", path + refusedId, bearer, json, "{}");
      assertThat(refused.statusCode()).isEqualTo(400);
      assertThat(JSON.readTree(refused.body()).path(0).path("errorCode").asText())
          .isEqualTo("INVALID_FIELD");

      HttpResponse<String> batch =
          send(
              "PATCH",
              sf.url()
                  + "/services/data/v62.0/composite/sobjects/Disposition_Log__c/Interaction_ID__c",
              bearer,
              json,
              "{\"allOrNone\":false,\"records\":[{\"attributes\":{\"type\":\"Disposition_Log__c\"},"
                  + "\"Interaction_ID__c\":\""
                  + id
                  + "2\"},{\"attributes\":{\"type\":\"Disposition_Log__c\"},"
                  + "\"Interaction_ID__c\":\""
                  + refusedId
                  + "\"}]}");
      assertThat(batch.statusCode()).isEqualTo(200);
      JsonNode rows = JSON.readTree(batch.body());
      assertThat(rows.path(0).path("success").asBoolean()).isTrue();
      assertThat(rows.path(1).path("success").asBoolean()).isFalse();
      assertThat(rows.path(1).path("errors").path(0).path("statusCode").asText())
          .isEqualTo("INVALID_FIELD");
    }
  }

  @Test
  void slackAnswersOkOrRateLimitedWithRetryAfter() throws Exception {
    try (DemoSlack ok = new DemoSlack(0);
        DemoSlack limited = new DemoSlack(100)) {
      HttpResponse<String> posted =
          send("POST", ok.url(), null, "application/json", "{\"text\":\"hi\"}");
      assertThat(posted.statusCode()).isEqualTo(200);
      assertThat(posted.body()).isEqualTo("ok");
      assertThat(ok.posted()).isEqualTo(1);
      HttpResponse<String> noText = send("POST", ok.url(), null, "application/json", "{}");
      assertThat(noText.statusCode()).isEqualTo(400);
      assertThat(noText.body()).isEqualTo("no_text");
      HttpResponse<String> wait =
          send("POST", limited.url(), null, "application/json", "{\"text\":\"hi\"}");
      assertThat(wait.statusCode()).isEqualTo(429);
      assertThat(wait.headers().firstValue("Retry-After")).contains("1");
      assertThat(limited.posted()).isZero();
    }
  }

  private static String firstAcceptedId() {
    for (int i = 0; ; i++) {
      if (Math.floorMod(("i-" + i).hashCode(), 50) != 0) {
        return "i-" + i;
      }
    }
  }

  private static String firstRefusedId() {
    for (int i = 0; ; i++) {
      if (Math.floorMod(("i-" + i).hashCode(), 50) == 0) {
        return "i-" + i;
      }
    }
  }
}
