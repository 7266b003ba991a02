package dev.switchboard.destination;

import java.time.Duration;

/**
 * What one attempt of a delivery came to, as a connector classifies it. The dispatcher decides what
 * happens next from this alone: connectors never retry by themselves.
 */
public sealed interface DeliveryResult {

  /** Bounded excerpt of the answer (status line or body), for the attempt history; may be null. */
  String excerpt();

  /**
   * The destination took it.
   *
   * @param pauseFor the destination said its quota is spent (e.g. {@code X-Rate-Limit-Remaining: 0}
   *     with a reset time): the whole destination waits this long before its next attempt; null
   *     when it did not say
   */
  record Delivered(int status, String excerpt, Duration pauseFor) implements DeliveryResult {
    public Delivered(int status, String excerpt) {
      this(status, excerpt, null);
    }
  }

  /**
   * Try again later: connection error, timeout, 408, 425, 429, 5xx.
   *
   * @param status the HTTP status, or 0 when there was no answer
   * @param retryAfter what the destination asked for (Retry-After, rate-limit reset), or null; it
   *     applies to the whole destination, not only this delivery
   * @param notBefore how long this delivery alone must wait at least (e.g. Jira's search lag after
   *     an ambiguous create), or null; the destination goes on with the others
   * @param errorClass what kind of failure it was; null is read as {@link ErrorClass#ofStatus(int)}
   *     of {@code status}
   */
  record RetryLater(
      String error,
      int status,
      Duration retryAfter,
      String excerpt,
      Duration notBefore,
      ErrorClass errorClass)
      implements DeliveryResult {
    public RetryLater {
      errorClass = errorClass == null ? ErrorClass.ofStatus(status) : errorClass;
    }

    /** The class follows from {@code status} alone (an HTTP class, or {@code error} for 0). */
    public RetryLater(
        String error, int status, Duration retryAfter, String excerpt, Duration notBefore) {
      this(error, status, retryAfter, excerpt, notBefore, null);
    }

    /** The class follows from {@code status} alone (an HTTP class, or {@code error} for 0). */
    public RetryLater(String error, int status, Duration retryAfter, String excerpt) {
      this(error, status, retryAfter, excerpt, null, null);
    }

    /** A failure without an answer (status 0) of the given class. */
    public static RetryLater noAnswer(
        ErrorClass errorClass, String error, Duration retryAfter, String excerpt) {
      return new RetryLater(error, 0, retryAfter, excerpt, null, errorClass);
    }

    /** The same result, this delivery alone waiting at least {@code notBefore}. */
    public RetryLater withNotBefore(Duration notBefore) {
      return new RetryLater(error, status, retryAfter, excerpt, notBefore, errorClass);
    }
  }

  /**
   * The destination refused it for good (other 4xx): dead-letter at once.
   *
   * @param errorClass what kind of failure it was; null is read as {@link ErrorClass#ofStatus(int)}
   *     of {@code status}
   */
  record Rejected(String error, int status, String excerpt, ErrorClass errorClass)
      implements DeliveryResult {
    public Rejected {
      errorClass = errorClass == null ? ErrorClass.ofStatus(status) : errorClass;
    }

    /** The class follows from {@code status} alone (an HTTP class, or {@code error} for 0). */
    public Rejected(String error, int status, String excerpt) {
      this(error, status, excerpt, null);
    }
  }
}
