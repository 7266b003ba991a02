package dev.switchboard.emulator;

import java.time.Duration;

/**
 * How an at-least-once sender retries a request that got a retryable answer (a timeout, a network
 * error, 408, 429 or 5xx): {@code retries} more attempts, {@code delay} apart.
 */
public record RetrySchedule(int retries, Duration delay) {
  /** The guides' sender: 3 retries, 60 s apart. */
  public static final RetrySchedule GUIDES = new RetrySchedule(3, Duration.ofSeconds(60));

  /** Genesys Open Messaging: up to 5 retries, 5 s apart. */
  public static final RetrySchedule OPEN_MESSAGING = new RetrySchedule(5, Duration.ofSeconds(5));

  public static final RetrySchedule NONE = new RetrySchedule(0, Duration.ZERO);

  public RetrySchedule {
    if (retries < 0 || delay.isNegative()) {
      throw new IllegalArgumentException("retries and delay must not be negative");
    }
  }

  /**
   * {@code guides}, {@code open-messaging}, {@code none}, or {@code N@DURATION} such as 2@500ms.
   */
  public static RetrySchedule parse(String text) {
    return switch (text) {
      case "guides" -> GUIDES;
      case "open-messaging" -> OPEN_MESSAGING;
      case "none" -> NONE;
      default -> {
        int at = text.indexOf('@');
        if (at < 0) {
          throw new IllegalArgumentException(
              "retry schedule is guides, open-messaging, none or N@DURATION (e.g. 3@10s)");
        }
        yield new RetrySchedule(
            Integer.parseInt(text.substring(0, at)), Durations.parse(text.substring(at + 1)));
      }
    };
  }

  /** Whether an HTTP answer asks an at-least-once sender to try again. */
  public static boolean retryable(int status) {
    return status == 408 || status == 429 || status >= 500;
  }
}
