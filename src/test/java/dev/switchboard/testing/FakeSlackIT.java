package dev.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The fake Slack keeps the rules of docs/connectors.md ("Slack") the connector tests rely on. */
class FakeSlackIT {
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:00Z"));
  final FakeSlack slack = new FakeSlack(clock);
  final HttpClient client = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    slack.close();
    client.close();
  }

  HttpResponse<String> post(java.net.URI uri, String type, String body) throws Exception {
    return client.send(
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(5))
            .header("Content-Type", type)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void successIsPlainOkAndAnUnknownHookIsNoService() throws Exception {
    FakeSlack.Hook hook = slack.hook();

    HttpResponse<String> ok = post(hook.uri(), "application/json", "{\"text\":\"hi\"}");
    HttpResponse<String> unknown =
        post(hook.uri().resolve("/services/T1/B1/nope"), "application/json", "{\"text\":\"hi\"}");

    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("ok");
    assertThat(ok.headers().firstValue("Content-Type")).hasValue("text/html");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.body()).isEqualTo("no_service");
  }

  @Test
  void theLegacyFormEncodingIsAcceptedAndOtherContentTypesAreNot() throws Exception {
    FakeSlack.Hook hook = slack.hook();
    String form = "payload=" + URLEncoder.encode("{\"text\":\"legacy\"}", StandardCharsets.UTF_8);

    assertThat(post(hook.uri(), "application/x-www-form-urlencoded", form).body()).isEqualTo("ok");
    HttpResponse<String> text = post(hook.uri(), "text/plain", "{\"text\":\"hi\"}");

    assertThat(text.statusCode()).isEqualTo(400);
    assertThat(text.body()).isEqualTo("invalid_payload");
    assertThat(hook.messages()).extracting(FakeSlack.Message::storedText).containsExactly("legacy");
  }

  @Test
  void blockAndAttachmentLimitsAndTheNewerMissingTextCode() throws Exception {
    FakeSlack.Hook hook = slack.hook();
    String longSection =
        "{\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\""
            + "x".repeat(3_001)
            + "\"}}]}";
    String attachments = "{\"attachments\":[" + "{},".repeat(100) + "{}]}";

    assertThat(post(hook.uri(), "application/json", longSection).body())
        .isEqualTo("invalid_blocks");
    assertThat(post(hook.uri(), "application/json", attachments).body())
        .isEqualTo("too_many_attachments");
    slack.missingTextCode("missing_text_or_fallback_or_attachments");
    assertThat(post(hook.uri(), "application/json", "{}").body())
        .isEqualTo("missing_text_or_fallback_or_attachments");
    assertThat(hook.messages()).isEmpty();
  }

  @Test
  void theBucketRefillsOnePerSecondAfterItsBurst() throws Exception {
    FakeSlack.Hook hook = slack.hook().burst(3);
    for (int i = 0; i < 3; i++) {
      assertThat(post(hook.uri(), "application/json", "{\"text\":\"m\"}").statusCode())
          .isEqualTo(200);
    }

    HttpResponse<String> limited = post(hook.uri(), "application/json", "{\"text\":\"m\"}");

    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("Retry-After")).hasValue("1");
    clock.advance(Duration.ofSeconds(1));
    assertThat(post(hook.uri(), "application/json", "{\"text\":\"m\"}").statusCode())
        .isEqualTo(200);
    assertThat(hook.messages()).hasSize(4);
  }
}
