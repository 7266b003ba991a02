package dev.switchboard.destination.http;

import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.ErrorClass;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.SocketTimeoutException;
import java.net.http.HttpTimeoutException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;

/**
 * The one mapping from an HTTP answer, or the lack of one, to a {@link DeliveryResult}. Every
 * HTTP-based connector uses it, so a 503 means the same thing for Slack as for Zapier.
 *
 * <p>Failure policy (docs/connectors.md, Standard Webhooks advice): 2xx is delivered; connection
 * errors, timeouts, 408, 425, 429 and 5xx are tried again, no sooner than the destination's {@code
 * Retry-After} or rate-limit reset; 410 means the receiver wants this endpoint disabled; 3xx is a
 * failure because following a redirect would send the payload (and its signature) to a URL nobody
 * configured; every other status is refused for good. Error texts are short codes for the attempt
 * history and dead-letter filters: they never carry the URL, which is often the credential.
 */
public final class HttpOutcomes {

  static final String GONE = "gone: the receiver asked to disable this endpoint";

  private static final Pattern SECONDS = Pattern.compile("\\d{1,18}(\\.\\d{1,9})?");
  private static final Pattern LINE_BREAKS = Pattern.compile("\\s*[\\r\\n]+\\s*");
  // a number this large is a Unix timestamp, not a count of seconds (10^9 s is about 31 years,
  // and 2001-09-09 as a time) ...
  private static final BigDecimal EPOCH_SECONDS_THRESHOLD = BigDecimal.valueOf(1_000_000_000L);
  // ... and this large, a Unix timestamp in milliseconds (10^12 s would be 31,700 years; as
  // milliseconds it is 2001-09-09 too)
  private static final BigDecimal EPOCH_MILLIS_THRESHOLD = BigDecimal.valueOf(1_000_000_000_000L);

  private HttpOutcomes() {}

  /** An answer's headers, looked up by name without regard to case. */
  @FunctionalInterface
  public interface Headers {
    /** The first value of the header, or null when the answer has none. */
    String first(String name);
  }

  /** Classifies a received answer; {@code bodyExcerpt} is kept as is for the attempt history. */
  public static DeliveryResult of(int status, Headers headers, String bodyExcerpt, Instant now) {
    if (status >= 200 && status < 300) {
      // a 2xx's Retry-After is about polling an async job (Power Automate's 202), not about us
      return new Delivered(status, bodyExcerpt, quotaReset(headers, now));
    }
    if (status == 408 || status == 425 || status == 429 || (status >= 500 && status < 600)) {
      return new RetryLater(
          "http " + status,
          status,
          retryAfter(headers, now),
          bodyExcerpt,
          null,
          ErrorClass.ofStatus(status));
    }
    if (status == 410) {
      return new Rejected(GONE, status, bodyExcerpt);
    }
    if (status >= 300 && status < 400) {
      return new Rejected("http " + status + ": redirects are not followed", status, bodyExcerpt);
    }
    if (status >= 400 && status < 500) {
      return new Rejected("http " + status, status, bodyExcerpt);
    }
    // 1xx as a final answer, or outside 100–599: not HTTP we understand, and retrying will not
    // make it so; the dead-letter queue keeps the event for replay
    return new Rejected("http " + status + ": unexpected status", status, bodyExcerpt);
  }

  /**
   * How long the destination asked us to wait, or null when it did not say (or said it in a form we
   * cannot read: a bad header never fails the delivery, the backoff applies instead).
   */
  public static Duration retryAfter(Headers headers, Instant now) {
    if (headers == null) {
      return null;
    }
    // delta-seconds are whole seconds (RFC 9110); a fraction there is not a form we know
    Duration asked =
        header(headers, "Retry-After")
            .filter(v -> v.indexOf('.') < 0)
            .map(v -> serverWait(v, now))
            .orElse(null);
    return asked != null ? asked : quotaReset(headers, now);
  }

  /**
   * When the answer says the quota is spent ({@code X-Rate-Limit-Remaining: 0}), how long until it
   * resets; null otherwise.
   */
  public static Duration quotaReset(Headers headers, Instant now) {
    if (headers == null) {
      return null;
    }
    boolean exhausted =
        header(headers, "X-Rate-Limit-Remaining", "X-RateLimit-Remaining")
            .map(v -> v.equals("0"))
            .orElse(false);
    if (!exhausted) {
      return null;
    }
    return header(headers, "X-Rate-Limit-Reset", "X-RateLimit-Reset")
        .map(v -> serverWait(v, now))
        .orElse(null);
  }

  /**
   * Classifies an attempt that got no answer. Only the exception's type is kept: messages from the
   * HTTP client and the TLS stack may include the request URL.
   */
  public static DeliveryResult ofFailure(Throwable error) {
    Throwable cause = unwrap(error);
    if (cause instanceof HttpTimeoutException // HttpConnectTimeoutException included
        || cause instanceof SocketTimeoutException
        || cause instanceof org.apache.hc.client5.http.ConnectTimeoutException) {
      return RetryLater.noAnswer(ErrorClass.TIMEOUT, "timeout", null, null);
    }
    if (cause instanceof IOException) { // ConnectException, SSLException, EOF, reset …
      return RetryLater.noAnswer(
          ErrorClass.CONNECTION, "connection error: " + typeName(cause), null, null);
    }
    // a bug or an interrupted worker says nothing about the event: try again, bounded by max age
    return RetryLater.noAnswer(
        ErrorClass.ERROR, "unexpected error: " + typeName(cause), null, null);
  }

  /** At most {@code maxChars} characters on one line, with "…" when cut; null stays null. */
  public static String excerpt(String body, int maxChars) {
    if (maxChars < 0) {
      throw new IllegalArgumentException("maxChars must not be negative");
    }
    if (body == null) {
      return null;
    }
    String line = LINE_BREAKS.matcher(body).replaceAll(" ").strip();
    if (line.length() <= maxChars) {
      return line;
    }
    int end = maxChars;
    if (end > 0 && Character.isHighSurrogate(line.charAt(end - 1))) {
      end--; // never split a character in two
    }
    return line.substring(0, end) + "…";
  }

  private static Optional<String> header(Headers headers, String... names) {
    for (String name : names) {
      String value = headers.first(name);
      if (value != null) {
        return Optional.of(value.trim());
      }
    }
    return Optional.empty();
  }

  /**
   * A wait a server asked for ({@code Retry-After}, a rate-limit reset), from now; null when the
   * value is none of the forms below. A number is told apart by its size: up to 10^9 it is a count
   * of seconds (Retry-After's delta-seconds, most resets), up to 10^12 a Unix time in seconds
   * (GitHub's and Twitter's {@code X-RateLimit-Reset}), beyond that a Unix time in milliseconds.
   * Otherwise an HTTP date ({@code Wed, 21 Oct 2026 07:28:00 GMT}) or an ISO-8601 time with its
   * offset ({@code 2026-10-21T07:28:00Z}, as Jira sends). A time already past is no wait (zero).
   * The answer is taken as asked: how long the dispatcher is willing to wait is its own cap.
   */
  public static Duration serverWait(String value, Instant now) {
    if (value == null) {
      return null;
    }
    String text = value.trim();
    if (SECONDS.matcher(text).matches()) {
      BigDecimal number = new BigDecimal(text);
      if (number.compareTo(EPOCH_MILLIS_THRESHOLD) >= 0) {
        return untilOrZero(now, Instant.EPOCH.plus(exact(number.movePointLeft(3))));
      }
      if (number.compareTo(EPOCH_SECONDS_THRESHOLD) >= 0) {
        return untilOrZero(now, Instant.EPOCH.plus(exact(number)));
      }
      return exact(number);
    }
    try {
      return untilOrZero(
          now, ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
    } catch (DateTimeException e) {
      // not an HTTP date; perhaps ISO-8601
    }
    try {
      return untilOrZero(now, OffsetDateTime.parse(text).toInstant());
    } catch (DateTimeException e) {
      return null;
    }
  }

  /** Seconds with up to nine decimals, as a Duration. */
  private static Duration exact(BigDecimal seconds) {
    return Duration.ofSeconds(
        seconds.longValue(), seconds.remainder(BigDecimal.ONE).movePointRight(9).intValue());
  }

  private static Duration untilOrZero(Instant now, Instant at) {
    Duration d = Duration.between(now, at);
    return d.isNegative() ? Duration.ZERO : d;
  }

  private static Throwable unwrap(Throwable error) {
    Throwable t = error;
    for (int depth = 0; depth < 10 && isWrapper(t) && t.getCause() != null; depth++) {
      t = t.getCause();
    }
    return t;
  }

  private static boolean isWrapper(Throwable t) {
    return t instanceof CompletionException
        || t instanceof ExecutionException
        || t instanceof UncheckedIOException;
  }

  private static String typeName(Throwable t) {
    String simple = t.getClass().getSimpleName();
    return simple.isEmpty() ? t.getClass().getName() : simple;
  }
}
