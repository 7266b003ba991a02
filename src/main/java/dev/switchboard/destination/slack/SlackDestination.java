package dev.switchboard.destination.slack;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.destination.http.HttpOutcomes;
import dev.switchboard.destination.http.HttpTransport;
import java.io.IOException;
import java.time.Clock;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code slack} connector: posts the route's output (a Slack message: {@code text}, {@code
 * blocks}, {@code attachments}) to an incoming webhook, one message per attempt
 * (docs/connectors.md).
 *
 * <p>Failure policy: success is a 2xx <em>whose body is {@code ok}</em>; Slack answers errors as a
 * status with a plain-text code ({@code invalid_payload}, {@code channel_not_found}, …), and has
 * been seen answering 200 with an error code. 429 (with its {@code Retry-After}, which pauses the
 * whole destination), 408 and 5xx ({@code rollup_error}) are tried again, as are timeouts and
 * connection errors; every other 4xx is final (a bad payload, an archived or missing channel, a
 * revoked hook), and so is a 2xx without {@code ok}: the message may have been posted, and Slack
 * does not de-duplicate, so a retry could post it twice. A timeout retried can post twice too:
 * Slack gives no idempotency key, so this connector is at-least-once.
 *
 * <p>The webhook URL is the credential: it is never logged or put in a result, only {@link
 * SlackDestinationSettings#safeTarget()}; Slack's error codes are kept as they are, other answers
 * only as a bounded excerpt.
 */
public final class SlackDestination implements Destination {
  private static final Logger LOG = LoggerFactory.getLogger(SlackDestination.class);

  /** Slack's answers are a few bytes; anything longer is not from Slack and is cut. */
  static final int MAX_ANSWER_BYTES = 4 * 1024;

  private static final int EXCERPT_CHARS = 200;

  /** What Slack's error answers look like: one lower-case code such as {@code no_text}. */
  private static final Pattern ERROR_CODE = Pattern.compile("[a-z][a-z0-9_]{1,63}");

  private final String name;
  private final SlackDestinationSettings settings;
  private final Clock clock;
  private final HttpTransport transport;

  /**
   * @param clock reads {@code Retry-After} dates
   * @throws IllegalArgumentException when the URL is missing or malformed
   */
  public SlackDestination(DestinationConfig config, Clock clock) {
    this.name = config.name();
    this.settings = ConnectorDescriptor.settingsOf(config, SlackDestinationSettings.class);
    this.clock = clock;
    this.transport =
        new HttpTransport(
            settings.connectTimeout(), settings.timeout(), config.concurrency(), MAX_ANSWER_BYTES);
    LOG.info("slack destination {} posts to {}", name, settings.safeTarget());
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public DeliveryResult send(OutboundDelivery delivery) {
    HttpTransport.Answer answer;
    try {
      answer =
          transport.exchange(
              "POST",
              settings.url(),
              Map.of("Content-Type", "application/json", "User-Agent", "switchboard"),
              delivery.body());
    } catch (IOException | RuntimeException e) {
      DeliveryResult failure = HttpOutcomes.ofFailure(e);
      LOG.debug("slack destination {} ({}): {}", name, settings.safeTarget(), failure);
      return failure;
    }
    return classify(answer.status(), answer.headers(), answer.body());
  }

  /** Slack's answer as a {@link DeliveryResult}; see the class comment for the policy. */
  DeliveryResult classify(int status, HttpOutcomes.Headers headers, String body) {
    String text = body == null ? "" : body.strip();
    String excerpt = HttpOutcomes.excerpt(text, EXCERPT_CHARS);
    String code = ERROR_CODE.matcher(text).matches() ? text : null;
    if (status >= 200 && status < 300) {
      if (text.equals("ok")) {
        return new Delivered(status, "ok");
      }
      return new Rejected(
          "slack answered " + status + " without ok" + (code == null ? "" : ": " + code),
          status,
          excerpt);
    }
    DeliveryResult outcome = HttpOutcomes.of(status, headers, excerpt, clock.instant());
    return switch (outcome) {
      case RetryLater retry ->
          new RetryLater(
              error(status, code, retry.error()),
              status,
              retry.retryAfter(),
              excerpt,
              null,
              retry.errorClass());
      case Rejected rejected ->
          new Rejected(
              error(status, code, rejected.error()), status, excerpt, rejected.errorClass());
      case Delivered delivered -> delivered; // 2xx handled above
    };
  }

  /** Slack's own code when it gave one ({@code slack 404 channel_not_found}), else the generic. */
  private static String error(int status, String code, String generic) {
    return code == null ? "slack " + generic : "slack " + status + " " + code;
  }

  @Override
  public void close() {
    transport.close();
  }
}
