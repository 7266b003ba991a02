package dev.switchboard.destination.jira;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeJira;
import dev.switchboard.testing.FakeJira.Answer;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/jira.yaml run by a whole gateway against a fake Jira: one issue per failed call, also
 * when the create times out after Jira made the issue. The gateway and the fake (its index lag)
 * share a manual clock.
 */
class JiraGatewayIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SECRET = "calls-signing-secret";
  static final String EMAIL = "ops@example.com";
  static final String TOKEN = "jira-api-token";

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:05Z"));
  final FakeJira jira = new FakeJira(clock, EMAIL, TOKEN);
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    jira.close();
  }

  /** The example as shipped, with a shorter request timeout so a slow create times out fast. */
  void start() throws Exception {
    String example = Files.readString(Path.of("examples/jira.yaml"));
    assertThat(example).contains("    timeout: 30s\n");
    gw =
        GatewayFixture.start(
            dir,
            example.replace("    timeout: 30s\n", "    timeout: 1s\n"),
            Map.of(
                "CALLS_SIGNING_SECRET", SECRET,
                "JIRA_BASE_URL", jira.baseUrl().toString(),
                "JIRA_EMAIL", EMAIL,
                "JIRA_API_TOKEN", TOKEN),
            clock);
  }

  String postFailed(String interactionId) throws Exception {
    byte[] body =
        GatewayFixture.utf8(
            """
            {"interactionId":"%s","timestamp":"2026-10-27T14:30:00Z","agentId":"a-7",
             "disposition":{"code":"FAILED","description":"no answer"}}"""
                .formatted(interactionId));
    HttpResponse<String> r =
        gw.post("calls", body, Map.of("X-Signature", Hmac.sha256Hex(SECRET, body)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  DeliveryRecord only(String eventId) {
    List<DeliveryRecord> all = gw.gateway().deliveries().deliveriesOf(new EventId(eventId));
    assertThat(all).hasSize(1);
    return all.get(0);
  }

  DeliveryState stateOf(String eventId) {
    return only(eventId).state();
  }

  List<AttemptRecord> attempts(String eventId) {
    return gw.gateway().deliveries().attempts(only(eventId).id());
  }

  @Test
  void aFailedCallBecomesOneIssueLabelledWithItsDelivery() throws Exception {
    start();

    String eventId = postFailed("i-1");

    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DELIVERED);
    FakeJira.Issue issue = jira.issues().get(0);
    assertThat(issue.fields().path("summary").asText()).isEqualTo("Failed interaction i-1");
    assertThat(issue.fields().path("project").path("key").asText()).isEqualTo("OPS");
    assertThat(issue.labels())
        .containsExactly("genesys", "failed-interaction", "sb-" + only(eventId).id().value());
    assertThat(issue.fields().path("description").path("content").get(0).toString())
        .contains("Agent a-7: no answer");
    assertThat(attempts(eventId))
        .extracting(AttemptRecord::status, AttemptRecord::excerpt)
        .containsExactly(tuple(201, "created OPS-1"));
  }

  @Test
  void aCreateThatTimesOutAfterJiraMadeTheIssueIsNotRepeated() throws Exception {
    jira.slowNextCreate(Duration.ofSeconds(3)); // the issue exists, the answer comes too late
    start();

    String eventId = postFailed("i-1");

    await()
        .atMost(Duration.ofSeconds(8))
        .until(() -> stateOf(eventId) == DeliveryState.RETRY_SCHEDULED);
    assertThat(only(eventId).errorClass()).isEqualTo("timeout");
    assertThat(jira.issues()).hasSize(1);
    // only that delivery waits out the lag: another event's issue is created meanwhile
    String other = postFailed("i-2");
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(other) == DeliveryState.DELIVERED);
    assertThat(jira.issues()).hasSize(2);
    clock.advance(Duration.ofSeconds(30)); // inside search_lag: the delivery waits
    await()
        .during(Duration.ofMillis(400))
        .atMost(Duration.ofSeconds(3))
        .until(() -> stateOf(eventId) == DeliveryState.RETRY_SCHEDULED);
    clock.advance(Duration.ofSeconds(31)); // past search_lag (60 s)
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DELIVERED);

    assertThat(jira.issues()).hasSize(2);
    assertThat(jira.requests("POST", "/rest/api/3/issue")).hasSize(2);
    assertThat(attempts(eventId))
        .extracting(AttemptRecord::outcome, AttemptRecord::error, AttemptRecord::excerpt)
        .containsExactly(
            tuple("retry", "timeout", null),
            tuple("delivered", null, "found OPS-1 created by an earlier attempt"));
  }

  @Test
  void jirasRetryAfterPausesTheDestination() throws Exception {
    jira.script(
        "POST /rest/api/3/search/jql",
        Answer.of(429, "{\"errorMessages\":[\"Rate limit exceeded.\"],\"errors\":{}}")
            .header("Retry-After", "30")
            .header("RateLimit-Reason", "jira-burst-based"));
    start();

    String eventId = postFailed("i-1");

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> stateOf(eventId) == DeliveryState.RETRY_SCHEDULED);
    assertThat(only(eventId).errorClass()).isEqualTo("http_429");
    clock.advance(Duration.ofSeconds(29));
    await()
        .during(Duration.ofMillis(400))
        .atMost(Duration.ofSeconds(3))
        .until(() -> stateOf(eventId) == DeliveryState.RETRY_SCHEDULED);
    clock.advance(Duration.ofSeconds(2));
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DELIVERED);
    assertThat(jira.issues()).hasSize(1);
  }

  @Test
  void aFieldJiraWillNotSetDeadLettersTheDelivery() throws Exception {
    jira.script(
        "POST /rest/api/3/issue",
        Answer.of(
            400,
            "{\"errorMessages\":[],\"errors\":{\"summary\":\"Field 'summary' cannot be set. It is"
                + " not on the appropriate screen, or unknown.\"}}"));
    start();

    String eventId = postFailed("i-1");

    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DEAD);
    assertThat(only(eventId).lastError()).isEqualTo("jira 400 (fields: summary)");
    assertThat(jira.issues()).isEmpty();
  }
}
