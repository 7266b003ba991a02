package dev.switchboard.destination.slack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.testing.DestinationConfigs;
import dev.switchboard.testing.FakeSlack;
import dev.switchboard.testing.MutableClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The slack connector against a fake incoming webhook on 127.0.0.1. */
class SlackDestinationIT {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:00Z"));
  private final FakeSlack slack = new FakeSlack(clock);
  private final List<SlackDestination> destinations = new ArrayList<>();

  @AfterEach
  void closeAll() {
    destinations.forEach(SlackDestination::close);
    slack.close();
  }

  private SlackDestination destination(FakeSlack.Hook hook, Duration timeout) {
    DestinationConfig config =
        DestinationConfigs.load(
            "alerts", "slack", Map.of("url", hook.uri().toString()), timeout, 4);
    SlackDestination destination = new SlackDestination(config, clock);
    destinations.add(destination);
    return destination;
  }

  private SlackDestination destination(FakeSlack.Hook hook) {
    return destination(hook, Duration.ofSeconds(5));
  }

  private static OutboundDelivery delivery(String json) {
    return new OutboundDelivery(
        "dlv_1", "evt_1", "dlv_1", null, json.getBytes(StandardCharsets.UTF_8), Map.of(), 1);
  }

  @Test
  void aMessageIsPostedAsJsonAndOkIsSuccess() {
    FakeSlack.Hook hook = slack.hook();

    DeliveryResult result =
        destination(hook).send(delivery("{\"text\":\"Interaction i-1 failed: no answer\"}"));

    assertThat(result).isEqualTo(new Delivered(200, "ok"));
    assertThat(hook.messages())
        .singleElement()
        .satisfies(m -> assertThat(m.storedText()).isEqualTo("Interaction i-1 failed: no answer"));
    assertThat(slack.requests().get(0).contentType()).isEqualTo("application/json");
  }

  @Test
  void blocksWithoutTextArePostedToo() {
    FakeSlack.Hook hook = slack.hook();

    DeliveryResult result =
        destination(hook)
            .send(
                delivery(
                    """
                    {"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*failed*"}}]}"""));

    assertThat(result).isInstanceOf(Delivered.class);
    assertThat(hook.messages()).hasSize(1);
  }

  @Test
  void aRateLimitedPostIsRetriedAfterSlacksRetryAfterAndNotPosted() {
    FakeSlack.Hook hook = slack.hook().burst(1);
    SlackDestination destination = destination(hook);

    assertThat(destination.send(delivery("{\"text\":\"one\"}"))).isInstanceOf(Delivered.class);
    DeliveryResult limited = destination.send(delivery("{\"text\":\"two\"}"));

    assertThat(limited).isInstanceOf(RetryLater.class);
    RetryLater retry = (RetryLater) limited;
    assertThat(retry.status()).isEqualTo(429);
    assertThat(retry.retryAfter()).isEqualTo(Duration.ofSeconds(1));
    assertThat(hook.messages()).extracting(FakeSlack.Message::storedText).containsExactly("one");

    clock.advance(Duration.ofSeconds(1));
    assertThat(destination.send(delivery("{\"text\":\"two\"}"))).isInstanceOf(Delivered.class);
    assertThat(hook.messages())
        .extracting(FakeSlack.Message::storedText)
        .containsExactly("one", "two");
  }

  @Test
  void aSlackServerErrorIsRetried() {
    FakeSlack.Hook hook = slack.hook().failNext(500, "rollup_error");

    DeliveryResult result = destination(hook).send(delivery("{\"text\":\"hi\"}"));

    assertThat(result)
        .isEqualTo(new RetryLater("slack 500 rollup_error", 500, null, "rollup_error"));
    assertThat(hook.messages()).isEmpty();
  }

  @Test
  void slacksPermanentErrorsAreDeadLetteredWithTheirCode() {
    FakeSlack.Hook hook =
        slack
            .hook()
            .failNext(403, "action_prohibited")
            .failNext(403, "posting_to_general_channel_denied")
            .failNext(404, "channel_not_found")
            .failNext(410, "channel_is_archived");
    SlackDestination destination = destination(hook);
    List<DeliveryResult> results = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      results.add(destination.send(delivery("{\"text\":\"hi\"}")));
    }

    assertThat(results)
        .containsExactly(
            new Rejected("slack 403 action_prohibited", 403, "action_prohibited"),
            new Rejected(
                "slack 403 posting_to_general_channel_denied",
                403,
                "posting_to_general_channel_denied"),
            new Rejected("slack 404 channel_not_found", 404, "channel_not_found"),
            new Rejected("slack 410 channel_is_archived", 410, "channel_is_archived"));
    assertThat(hook.messages()).isEmpty();
  }

  @Test
  void badPayloadsAreDeadLetteredAsSlackRefusesThem() {
    FakeSlack.Hook hook = slack.hook();
    SlackDestination destination = destination(hook);
    StringBuilder blocks = new StringBuilder("{\"blocks\":[");
    for (int i = 0; i < 51; i++) {
      blocks.append(i == 0 ? "" : ",").append("{\"type\":\"divider\"}");
    }
    blocks.append("]}");

    assertThat(destination.send(delivery("not json")))
        .isEqualTo(new Rejected("slack 400 invalid_payload", 400, "invalid_payload"));
    assertThat(destination.send(delivery("{\"channel\":\"#ops\"}")))
        .isEqualTo(new Rejected("slack 400 no_text", 400, "no_text"));
    assertThat(destination.send(delivery(blocks.toString())))
        .isEqualTo(new Rejected("slack 400 invalid_blocks", 400, "invalid_blocks"));
    assertThat(hook.messages()).isEmpty();
  }

  @Test
  void aRevokedHookIsDeadLettered() {
    FakeSlack.Hook hook = slack.hook().disable();

    DeliveryResult result = destination(hook).send(delivery("{\"text\":\"hi\"}"));

    assertThat(result).isEqualTo(new Rejected("slack 404 no_service", 404, "no_service"));
  }

  @Test
  void twoHundredWithoutOkIsNotASuccess() {
    FakeSlack.Hook hook = slack.hook().answerOkWith("no_service");

    DeliveryResult result = destination(hook).send(delivery("{\"text\":\"hi\"}"));

    assertThat(result)
        .isEqualTo(new Rejected("slack answered 200 without ok: no_service", 200, "no_service"));
  }

  @Test
  void aVeryLongTextIsTruncatedBySlackAndStillDelivered() {
    FakeSlack.Hook hook = slack.hook();
    String text = "x".repeat(45_000);

    DeliveryResult result = destination(hook).send(delivery("{\"text\":\"" + text + "\"}"));

    assertThat(result).isInstanceOf(Delivered.class);
    assertThat(hook.messages().get(0).storedText()).hasSize(40_000);
  }

  @Test
  void aSlowAnswerTimesOutAndIsRetriedThoughSlackMayHavePostedIt() {
    FakeSlack.Hook hook = slack.hook().latency(Duration.ofSeconds(3));

    DeliveryResult result =
        destination(hook, Duration.ofMillis(300)).send(delivery("{\"text\":\"hi\"}"));

    assertThat(result).isInstanceOf(RetryLater.class);
    assertThat(((RetryLater) result).error()).isEqualTo("timeout");
    // Slack posted it anyway: the retry will post it again (at-least-once; Slack has no key)
    assertThat(hook.messages()).hasSize(1);
  }

  @Test
  void theWebhookUrlNeverAppearsInResultsOrSettings() {
    FakeSlack.Hook hook = slack.hook().failNext(404, "channel_not_found");
    SlackDestination destination = destination(hook);
    String secretPart = hook.uri().getPath();

    DeliveryResult result = destination.send(delivery("{\"text\":\"hi\"}"));

    assertThat(result.toString()).doesNotContain(secretPart).doesNotContain("XsecretX");
    SlackDestinationSettings settings =
        ((SlackDestinationSettings)
            DestinationConfigs.load(
                    "alerts",
                    "slack",
                    Map.of("url", hook.uri().toString()),
                    Duration.ofSeconds(1),
                    1)
                .settings());
    assertThat(settings.toString()).doesNotContain("XsecretX").doesNotContain("services");
    assertThat(settings.safeTarget()).isEqualTo("http://127.0.0.1:" + hook.uri().getPort() + "/…");
  }

  @Test
  void aMissingUrlFailsAtStartWithoutEchoingSettings() {
    // refused by the loader now, before any connector is built
    assertThatThrownBy(
            () ->
                new SlackDestination(
                    DestinationConfigs.load("alerts", "slack", Map.of(), Duration.ofSeconds(1), 1),
                    clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("url is required");
  }
}
