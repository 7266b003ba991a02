package dev.switchboard.destination.slack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeSlack;
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
 * examples/slack.yaml run by a whole gateway against a fake Slack webhook: signed events in,
 * messages out, Slack's 1/s default rate and its 429 Retry-After honoured by the dispatcher. The
 * gateway and the fake share a manual clock.
 */
class SlackGatewayIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SECRET = "calls-signing-secret";
  static final Duration SETTLE = Duration.ofMillis(400);

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:05Z"));
  final FakeSlack slack = new FakeSlack(clock);
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    slack.close();
  }

  void start(FakeSlack.Hook hook) throws Exception {
    String example = Files.readString(Path.of("examples/slack.yaml"));
    gw =
        GatewayFixture.start(
            dir,
            example,
            Map.of("CALLS_SIGNING_SECRET", SECRET, "SLACK_WEBHOOK_URL", hook.uri().toString()),
            clock);
  }

  String postFailed(String interactionId) throws Exception {
    byte[] body =
        GatewayFixture.utf8(
            """
            {"interactionId":"%s","timestamp":"2026-10-27T14:30:00Z",
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

  @Test
  void aFailedCallBecomesOneSlackMessage() throws Exception {
    FakeSlack.Hook hook = slack.hook();
    start(hook);

    String eventId = postFailed("i-1");

    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DELIVERED);
    assertThat(hook.messages())
        .extracting(FakeSlack.Message::storedText)
        .containsExactly("Interaction i-1 failed: no answer");
    assertThat(gw.gateway().deliveries().attempts(only(eventId).id()))
        .singleElement()
        .satisfies(a -> assertThat(a.excerpt()).isEqualTo("ok"));
  }

  @Test
  void withoutARateLimitTheDestinationSendsOneMessageASecond() throws Exception {
    FakeSlack.Hook hook = slack.hook();
    start(hook);
    for (int i = 0; i < 3; i++) {
      postFailed("i-" + i);
    }

    await().atMost(Duration.ofSeconds(5)).until(() -> hook.messages().size() == 1);
    await().during(SETTLE).atMost(SETTLE.plusSeconds(2)).until(() -> hook.messages().size() == 1);
    clock.advance(Duration.ofSeconds(1));
    await().atMost(Duration.ofSeconds(5)).until(() -> hook.messages().size() == 2);
    await().during(SETTLE).atMost(SETTLE.plusSeconds(2)).until(() -> hook.messages().size() == 2);
    clock.advance(Duration.ofSeconds(1));
    await().atMost(Duration.ofSeconds(5)).until(() -> hook.messages().size() == 3);
  }

  @Test
  void slacksRetryAfterPausesTheDestinationAndTheMessageGoesLater() throws Exception {
    FakeSlack.Hook hook = slack.hook().spend(); // the first post gets 429
    start(hook);

    String eventId = postFailed("i-1");

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> stateOf(eventId) == DeliveryState.RETRY_SCHEDULED);
    assertThat(only(eventId).errorClass()).isEqualTo("http_429");
    assertThat(hook.messages()).isEmpty();
    clock.advance(Duration.ofSeconds(2)); // past Retry-After: 1 and the first backoff (<= 1 s)
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DELIVERED);
    assertThat(hook.messages()).hasSize(1);
    assertThat(gw.gateway().deliveries().attempts(only(eventId).id()))
        .extracting(AttemptRecord::status, AttemptRecord::outcome)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(429, "retry"),
            org.assertj.core.groups.Tuple.tuple(200, "delivered"));
  }

  @Test
  void anArchivedChannelDeadLettersTheDeliveryWithSlacksCode() throws Exception {
    FakeSlack.Hook hook = slack.hook().failNext(410, "channel_is_archived");
    start(hook);

    String eventId = postFailed("i-1");

    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DEAD);
    assertThat(only(eventId).lastError()).isEqualTo("slack 410 channel_is_archived");
    assertThat(hook.messages()).isEmpty();
  }
}
