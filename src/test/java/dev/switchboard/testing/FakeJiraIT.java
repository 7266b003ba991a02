package dev.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The fake Jira keeps the real API's rules the connector tests rely on. */
class FakeJiraIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String AUTH = FakeJira.basic("ops@example.com", "token");
  static final String ISSUE =
      """
      {"fields":{"project":{"key":"OPS"},"issuetype":{"name":"Task"},"summary":"s",
       "labels":["sb-k1"]},"properties":[{"key":"switchboard","value":{"idempotencyKey":"k1"}}]}""";

  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:00Z"));
  final FakeJira jira = new FakeJira(clock, "ops@example.com", "token");
  final HttpClient client = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    jira.close();
    client.close();
  }

  HttpResponse<String> call(String method, String path, String body, String auth) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(jira.baseUrl() + path))
            .timeout(Duration.ofSeconds(5))
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (auth != null) {
      request.header("Authorization", auth);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> call(String method, String path, String body) throws Exception {
    return call(method, path, body, AUTH);
  }

  JsonNode search(String jql) throws Exception {
    HttpResponse<String> r =
        call("POST", "/rest/api/3/search/jql", JSON.createObjectNode().put("jql", jql).toString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  @Test
  void createsAreNeverDeduplicatedAndSearchLagsBehindThem() throws Exception {
    assertThat(call("POST", "/rest/api/3/issue", ISSUE).statusCode()).isEqualTo(201);
    HttpResponse<String> second = call("POST", "/rest/api/3/issue", ISSUE);
    assertThat(JSON.readTree(second.body()).path("key").asText()).isEqualTo("OPS-2");

    assertThat(search("labels = \"sb-k1\"").path("issues")).isEmpty();
    clock.advance(Duration.ofSeconds(5));
    JsonNode found = search("project = OPS AND labels = \"sb-k1\"");
    assertThat(found.path("issues")).hasSize(2);
    assertThat(found.path("issues").get(0).has("key")).isFalse(); // ids only without fields
    assertThat(found.path("isLast").asBoolean()).isTrue();
  }

  @Test
  void reconcileIssuesSeesListedIssuesAtOnce() throws Exception {
    String id = JSON.readTree(call("POST", "/rest/api/3/issue", ISSUE).body()).path("id").asText();

    HttpResponse<String> r =
        call(
            "POST",
            "/rest/api/3/search/jql",
            "{\"jql\":\"labels = sb-k1\",\"reconcileIssues\":["
                + id
                + "],\"fields\":[\"labels\"]}");

    JsonNode issue = JSON.readTree(r.body()).path("issues").get(0);
    assertThat(issue.path("key").asText()).isEqualTo("OPS-1");
    assertThat(issue.path("fields").path("labels").get(0).asText()).isEqualTo("sb-k1");
  }

  @Test
  void searchPagesWithATokenAndRefusesUnboundedJql() throws Exception {
    for (int i = 0; i < 3; i++) {
      call("POST", "/rest/api/3/issue", ISSUE);
    }
    clock.advance(Duration.ofSeconds(5));
    JsonNode first =
        JSON.readTree(
            call("GET", "/rest/api/3/search/jql?jql=project%20%3D%20OPS&maxResults=2", null)
                .body());
    assertThat(first.path("issues")).hasSize(2);
    assertThat(first.path("isLast").asBoolean()).isFalse();
    JsonNode rest =
        JSON.readTree(
            call(
                    "GET",
                    "/rest/api/3/search/jql?jql=project%20%3D%20OPS&nextPageToken="
                        + first.path("nextPageToken").asText(),
                    null)
                .body());
    assertThat(rest.path("issues")).hasSize(1);
    assertThat(rest.path("isLast").asBoolean()).isTrue();

    assertThat(call("POST", "/rest/api/3/search/jql", "{\"jql\":\"\"}").statusCode())
        .isEqualTo(400);
    assertThat(call("GET", "/rest/api/3/search?jql=project%3DOPS", null).statusCode())
        .isEqualTo(410);
  }

  @Test
  void propertyJqlWorksOnlyWhenAnAppIndexedTheProperty() throws Exception {
    call("POST", "/rest/api/3/issue", ISSUE);
    clock.advance(Duration.ofSeconds(5));
    String jql = "issue.property[switchboard].idempotencyKey = \"k1\"";

    assertThat(
            call(
                    "POST",
                    "/rest/api/3/search/jql",
                    JSON.createObjectNode().put("jql", jql).toString())
                .statusCode())
        .isEqualTo(400);
    jira.propertiesIndexed(true);
    assertThat(search(jql).path("issues")).hasSize(1);
  }

  @Test
  void propertiesAreReadAndWrittenAndAnEditLagsTheIndexAgain() throws Exception {
    call("POST", "/rest/api/3/issue", ISSUE);
    JsonNode stored =
        JSON.readTree(call("GET", "/rest/api/3/issue/OPS-1/properties/switchboard", null).body());
    assertThat(stored.path("value").path("idempotencyKey").asText()).isEqualTo("k1");

    assertThat(call("PUT", "/rest/api/3/issue/OPS-1/properties/extra", "{\"a\":1}").statusCode())
        .isEqualTo(201);
    assertThat(call("PUT", "/rest/api/3/issue/OPS-1/properties/extra", "{\"a\":2}").statusCode())
        .isEqualTo(200);
    String tooLong = "{\"a\":\"" + "x".repeat(FakeJira.MAX_PROPERTY_CHARS) + "\"}";
    assertThat(call("PUT", "/rest/api/3/issue/OPS-1/properties/big", tooLong).statusCode())
        .isEqualTo(400);
    assertThat(call("GET", "/rest/api/3/issue/OPS-1/properties/none", null).statusCode())
        .isEqualTo(404);
  }

  @Test
  void fieldRulesAnswerJirasErrorShape() throws Exception {
    HttpResponse<String> r =
        call(
            "POST",
            "/rest/api/3/issue",
            "{\"fields\":{\"project\":{\"key\":\"OPS\"},\"issuetype\":{\"name\":\"Epic\"},"
                + "\"description\":\"plain\",\"labels\":[\"a b\"],\"color\":\"red\"}}");

    assertThat(r.statusCode()).isEqualTo(400);
    JsonNode errors = JSON.readTree(r.body()).path("errors");
    assertThat(errors.path("issuetype").asText()).isEqualTo("The issue type selected is invalid.");
    assertThat(errors.path("summary").asText())
        .isEqualTo("You must specify a summary of the issue.");
    assertThat(errors.path("description").asText()).contains("Atlassian Document");
    assertThat(errors.path("labels").asText()).contains("contains spaces");
    assertThat(errors.path("color").asText()).contains("cannot be set");
    HttpResponse<String> noProject =
        call("POST", "/rest/api/3/issue", ISSUE.replace("\"OPS\"", "\"FACILITIES\""));
    assertThat(JSON.readTree(noProject.body()).path("errorMessages").get(0).asText())
        .isEqualTo("The value 'FACILITIES' does not exist for the field 'project'.");
  }

  @Test
  void credentialsAreCheckedAndAnonymousSearchCanLookEmpty() throws Exception {
    HttpResponse<String> wrong =
        call("POST", "/rest/api/3/issue", ISSUE, FakeJira.basic("ops@example.com", "nope"));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(wrong.body()).path("status-code").asInt()).isEqualTo(401);
    assertThat(call("POST", "/rest/api/3/issue", ISSUE, null).statusCode()).isEqualTo(401);

    call("POST", "/rest/api/3/issue", ISSUE);
    clock.advance(Duration.ofSeconds(5));
    jira.anonymous(FakeJira.Anonymous.EMPTY_SEARCH);
    HttpResponse<String> anonymous =
        call("POST", "/rest/api/3/search/jql", "{\"jql\":\"project = OPS\"}", null);
    assertThat(anonymous.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(anonymous.body()).path("issues")).isEmpty();
  }

  @Test
  void aBurstOverTheLimitGets429WithJirasHeaders() throws Exception {
    jira.burstLimit(1);
    call("POST", "/rest/api/3/issue", ISSUE);

    HttpResponse<String> limited = call("POST", "/rest/api/3/issue", ISSUE);

    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(limited.headers().firstValue("X-RateLimit-Reset")).hasValue("2026-10-27T14:31Z");
    assertThat(limited.headers().firstValue("RateLimit-Reason")).hasValue("jira-burst-based");
    assertThat(call("POST", "/rest/api/3/search/jql", "{\"jql\":\"project = OPS\"}").statusCode())
        .isEqualTo(200); // another endpoint has its own budget
    assertThat(jira.issues()).hasSize(1);
  }
}
