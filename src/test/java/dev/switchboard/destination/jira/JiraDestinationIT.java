package dev.switchboard.destination.jira;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.testing.DestinationConfigs;
import dev.switchboard.testing.FakeJira;
import dev.switchboard.testing.FakeJira.Answer;
import dev.switchboard.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The jira connector against a fake Jira Cloud on 127.0.0.1, its index lag on a manual clock. */
class JiraDestinationIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String EMAIL = "ops@example.com";
  static final String TOKEN = "ATATT3xFfGF0-secret-token";
  static final String OUTPUT =
      """
      {"summary":"Failed interaction i-1","description":"Agent a-7: no answer\\nsecond line",
       "labels":["genesys","failed-interaction"]}""";
  static final Duration LAG = Duration.ofSeconds(60);

  private final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:00Z"));
  private final FakeJira jira = new FakeJira(clock, EMAIL, TOKEN);
  private final List<JiraDestination> destinations = new ArrayList<>();

  @AfterEach
  void closeAll() {
    destinations.forEach(JiraDestination::close);
    jira.close();
  }

  private JiraDestination destination(Map<String, Object> overrides, Duration timeout) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("base_url", jira.baseUrl() + "/");
    settings.put("email", EMAIL);
    settings.put("api_token", TOKEN);
    settings.put("project", "OPS");
    settings.put("search_lag", "60s");
    settings.putAll(overrides);
    JiraDestination destination =
        new JiraDestination(
            DestinationConfigs.load("jira-ops", "jira", settings, timeout, 4), clock);
    destinations.add(destination);
    return destination;
  }

  private JiraDestination destination() {
    return destination(Map.of(), Duration.ofSeconds(5));
  }

  private static OutboundDelivery delivery(String key, String json) {
    return new OutboundDelivery(
        key, "evt_" + key, key, null, json.getBytes(StandardCharsets.UTF_8), Map.of(), 1);
  }

  @Test
  void createsAnIssueWithProjectTypeLabelsAdfDescriptionAndProperty() throws Exception {
    DeliveryResult result = destination().send(delivery("dlv_a1", OUTPUT));

    assertThat(result).isEqualTo(new Delivered(201, "created OPS-1"));
    FakeJira.Issue issue = jira.issues().get(0);
    assertThat(issue.key()).isEqualTo("OPS-1");
    assertThat(issue.fields().path("summary").asText()).isEqualTo("Failed interaction i-1");
    assertThat(issue.fields().path("issuetype").path("name").asText()).isEqualTo("Task");
    assertThat(issue.labels()).containsExactly("genesys", "failed-interaction", "sb-dlv_a1");
    JsonNode description = issue.fields().path("description");
    assertThat(description.path("type").asText()).isEqualTo("doc");
    JsonNode inline = description.path("content").get(0).path("content");
    assertThat(inline.get(0).path("text").asText()).isEqualTo("Agent a-7: no answer");
    assertThat(inline.get(1).path("type").asText()).isEqualTo("hardBreak");
    assertThat(inline.get(2).path("text").asText()).isEqualTo("second line");
    assertThat(issue.properties().get("switchboard").path("idempotencyKey").asText())
        .isEqualTo("dlv_a1");
    assertThat(issue.properties().get("switchboard").path("eventId").asText())
        .isEqualTo("evt_dlv_a1");
    // looked for an earlier issue first, with basic auth on every request
    assertThat(jira.requests())
        .extracting(FakeJira.Request::method, FakeJira.Request::path)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("POST", "/rest/api/3/search/jql"),
            org.assertj.core.groups.Tuple.tuple("POST", "/rest/api/3/issue"));
    assertThat(JSON.readTree(jira.requests().get(0).body()).path("jql").asText())
        .isEqualTo("project = \"OPS\" AND labels = \"sb-dlv_a1\"");
    assertThat(jira.requests()).allSatisfy(r -> assertThat(r.authorization()).startsWith("Basic "));
  }

  @Test
  void anIssueTypeIdAndATransformsOwnIssueTypeAreUsed() {
    destination(Map.of("issue_type", "10002"), Duration.ofSeconds(5))
        .send(delivery("dlv_t1", "{\"summary\":\"by id\"}"));
    destination()
        .send(delivery("dlv_t2", "{\"summary\":\"own\",\"issuetype\":{\"name\":\"Bug\"}}"));

    assertThat(jira.issues())
        .extracting(i -> i.fields().path("issuetype").toString())
        .containsExactly("{\"id\":\"10002\"}", "{\"name\":\"Bug\"}");
  }

  @Test
  void fieldErrorsAreDeadLetteredWithTheFieldNames() {
    DeliveryResult result =
        destination().send(delivery("dlv_b1", "{\"summary\":\"x\",\"labels\":[\"two words\"]}"));

    assertThat(result).isInstanceOf(Rejected.class);
    Rejected rejected = (Rejected) result;
    assertThat(rejected.status()).isEqualTo(400);
    assertThat(rejected.error()).isEqualTo("jira 400 (fields: labels)");
    assertThat(rejected.excerpt()).contains("contains spaces");
    assertThat(jira.issues()).isEmpty();
  }

  @Test
  void anOutputThatIsNotAnObjectIsDeadLetteredWithoutAnyRequest() {
    DeliveryResult result = destination().send(delivery("dlv_b2", "[1,2]"));

    assertThat(result)
        .isEqualTo(
            new Rejected("jira: the route's output must be a JSON object of fields", 0, null));
    assertThat(jira.requests()).isEmpty();
  }

  @Test
  void wrongCredentialsAreDeadLetteredAndTheTokenIsNotInTheResult() {
    DeliveryResult result =
        destination(Map.of("api_token", "wrong-token"), Duration.ofSeconds(5))
            .send(delivery("dlv_c1", OUTPUT));

    assertThat(result).isInstanceOf(Rejected.class);
    assertThat(((Rejected) result).status()).isEqualTo(401);
    assertThat(result.toString()).doesNotContain("wrong-token");
    assertThat(
            ((JiraDestinationSettings)
                    DestinationConfigs.load(
                            "j",
                            "jira",
                            Map.of(
                                "base_url",
                                "https://x.atlassian.net",
                                "email",
                                EMAIL,
                                "api_token",
                                TOKEN,
                                "project",
                                "OPS"),
                            Duration.ofSeconds(1),
                            1)
                        .settings())
                .toString())
        .doesNotContain(TOKEN)
        .doesNotContain(EMAIL);
  }

  @Test
  void aBurstLimitIsRetriedAfterJirasRetryAfter() {
    jira.burstLimit(1);
    JiraDestination destination = destination();
    assertThat(destination.send(delivery("dlv_r1", OUTPUT))).isInstanceOf(Delivered.class);

    DeliveryResult limited = destination.send(delivery("dlv_r2", OUTPUT));

    assertThat(limited).isInstanceOf(RetryLater.class);
    RetryLater retry = (RetryLater) limited;
    assertThat(retry.status()).isEqualTo(429);
    assertThat(retry.retryAfter()).isEqualTo(Duration.ofSeconds(1));
    assertThat(jira.issues()).hasSize(1);
    clock.advance(Duration.ofSeconds(1));
    assertThat(destination.send(delivery("dlv_r2", OUTPUT))).isInstanceOf(Delivered.class);
    assertThat(jira.issues()).hasSize(2);
  }

  @Test
  void aRateLimitResetWithoutRetryAfterIsReadAsAnIsoTime() {
    jira.script(
        "POST /rest/api/3/search/jql",
        Answer.of(429, "{\"errorMessages\":[\"Rate limit exceeded.\"],\"errors\":{}}")
            .header("X-RateLimit-Reset", "2026-10-27T14:32Z")
            .header("RateLimit-Reason", "jira-quota-tenant-based"));

    DeliveryResult result = destination().send(delivery("dlv_r3", OUTPUT));

    assertThat(result).isInstanceOf(RetryLater.class);
    assertThat(((RetryLater) result).retryAfter()).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void anUnavailableSearchIsRetriedWithoutTheLagSinceNothingWasCreated() {
    jira.script(
        "POST /rest/api/3/search/jql",
        Answer.of(503, "{\"errorMessages\":[\"Service unavailable\"]}").header("Retry-After", "5"));

    DeliveryResult result = destination().send(delivery("dlv_s1", OUTPUT));

    assertThat(result).isInstanceOf(RetryLater.class);
    assertThat(((RetryLater) result).retryAfter()).isEqualTo(Duration.ofSeconds(5));
    assertThat(jira.requests("POST", "/rest/api/3/issue")).isEmpty();
  }

  @Test
  void aCreateThatTimesOutButSucceededLeavesExactlyOneIssue() {
    jira.slowNextCreate(Duration.ofSeconds(3)); // created at once, answered too late
    JiraDestination destination = destination(Map.of(), Duration.ofMillis(500));

    DeliveryResult first = destination.send(delivery("dlv_d1", OUTPUT));

    // only this delivery waits the lag: the destination is not paused for the others
    assertThat(first).isEqualTo(new RetryLater("timeout", 0, null, null, LAG, ErrorClass.TIMEOUT));
    assertThat(jira.issues()).hasSize(1);

    // a retry before the lag has passed neither searches (it would miss) nor creates
    clock.advance(Duration.ofSeconds(10));
    int requestsBefore = jira.requests().size();
    DeliveryResult early = destination.send(delivery("dlv_d1", OUTPUT));
    assertThat(early).isInstanceOf(RetryLater.class);
    assertThat(((RetryLater) early).notBefore()).isEqualTo(Duration.ofSeconds(50));
    assertThat(((RetryLater) early).retryAfter()).isNull();
    assertThat(jira.requests()).hasSize(requestsBefore);

    clock.advance(Duration.ofSeconds(50));
    DeliveryResult retried = destination.send(delivery("dlv_d1", OUTPUT));

    assertThat(retried).isEqualTo(new Delivered(200, "found OPS-1 created by an earlier attempt"));
    assertThat(jira.issues()).hasSize(1);
    assertThat(jira.requests("POST", "/rest/api/3/issue")).hasSize(1);
  }

  @Test
  void aServerErrorOnCreateWaitsOutTheLagToo() {
    jira.script("POST /rest/api/3/issue", Answer.of(500, "{\"errorMessages\":[\"Internal\"]}"));
    JiraDestination destination = destination();

    DeliveryResult first = destination.send(delivery("dlv_e1", OUTPUT));

    assertThat(first).isInstanceOf(RetryLater.class);
    assertThat(((RetryLater) first).status()).isEqualTo(500);
    assertThat(((RetryLater) first).notBefore()).isEqualTo(LAG);
    clock.advance(LAG);
    assertThat(destination.send(delivery("dlv_e1", OUTPUT)))
        .isEqualTo(new Delivered(201, "created OPS-1"));
    assertThat(jira.issues()).hasSize(1);
  }

  @Test
  void anotherProcessFindsAnIssueByItsLabelOnceTheIndexCaughtUp() {
    destination().send(delivery("dlv_f1", OUTPUT));
    clock.advance(Duration.ofSeconds(6)); // the fake's index lag is 5 s

    DeliveryResult again = destination().send(delivery("dlv_f1", OUTPUT)); // fresh memory

    assertThat(again).isEqualTo(new Delivered(200, "found OPS-1 created by an earlier attempt"));
    assertThat(jira.issues()).hasSize(1);
  }

  @Test
  void aKeyThisProcessCreatedIsConfirmedByGetEvenBeforeSearchSeesIt() {
    JiraDestination destination = destination();
    destination.send(delivery("dlv_g1", OUTPUT));

    DeliveryResult replayed = destination.send(delivery("dlv_g1", OUTPUT));

    assertThat(replayed).isEqualTo(new Delivered(200, "already created as OPS-1"));
    assertThat(jira.issues()).hasSize(1);
    assertThat(jira.requests().get(jira.requests().size() - 1).path())
        .isEqualTo("/rest/api/3/issue/OPS-1");
  }

  @Test
  void duplicatesAlreadyThereAreReportedNotMultiplied() {
    // two issues carry the label (say, a crash inside the lag made the second)
    destination().send(delivery("dlv_h1", OUTPUT));
    destination().send(delivery("dlv_h1", OUTPUT)); // fresh memory, search still lagging
    clock.advance(Duration.ofSeconds(6));

    DeliveryResult third = destination().send(delivery("dlv_h1", OUTPUT));

    assertThat(third).isEqualTo(new Delivered(200, "found OPS-1, OPS-2: duplicates, not deleted"));
    assertThat(jira.issues()).hasSize(2);
  }
}
