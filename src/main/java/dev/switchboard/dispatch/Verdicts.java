package dev.switchboard.dispatch;

import dev.switchboard.config.RouteConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.Finish;
import dev.switchboard.store.QueuedDelivery;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What an answer means: for the delivery, the outcome to write (delivered, retry at a time the
 * policy gives, dead), and for the destination as a whole, the one signal a request gives ({@link
 * #signal}).
 */
final class Verdicts {
  /** How an attempt's error starts when something threw that nothing classified. */
  static final String INTERNAL = "internal error";

  private static final int MAX_EXCERPT = 500;

  private Verdicts() {}

  /** What one attempt of a delivery is, as facts: which, when, how long. */
  record Try(
      DestinationLane lane,
      QueuedDelivery d,
      String token,
      Instant claimedAt,
      int number,
      Instant started,
      Duration took) {}

  /** The outcome of an answer: delivered (with its watermark), retried, or dead-lettered. */
  static Finish decide(
      Try t, RouteConfig route, boolean perKey, DeliveryResult result, Instant now) {
    QueuedDelivery d = t.d();
    switch (result) {
      case DeliveryResult.Delivered ok -> {
        Finish.Watermark mark =
            perKey && route.stale() == RouteConfig.Stale.SKIP
                ? new Finish.Watermark(d.route(), d.partitionKey(), d.eventTime())
                : null;
        return new Finish.Delivered(
            d.id(),
            t.token(),
            new AttemptRecord(
                t.number(),
                t.started(),
                t.took(),
                ok.status(),
                "delivered",
                null,
                cut(ok.excerpt())),
            mark);
      }
      case DeliveryResult.RetryLater retry -> {
        return retryOrDie(t, retry, now);
      }
      case DeliveryResult.Rejected no -> {
        if (t.lane().config().retry().retryOn().contains(no.status())) {
          return retryOrDie(
              t,
              new DeliveryResult.RetryLater(
                  no.error(), no.status(), null, no.excerpt(), null, no.errorClass()),
              now);
        }
        return new Finish.Dead(
            d.id(),
            t.token(),
            new AttemptRecord(
                t.number(),
                t.started(),
                t.took(),
                no.status(),
                "dead",
                no.error(),
                cut(no.excerpt())),
            no.error(),
            no.errorClass().stored());
      }
    }
  }

  /** A retry at the time the destination's policy gives, or dead when the policy gives up. */
  static Finish retryOrDie(Try t, DeliveryResult.RetryLater retry, Instant now) {
    QueuedDelivery d = t.d();
    DestinationLane lane = t.lane();
    Instant firstAttemptAt = d.firstAttemptAt() == null ? t.claimedAt() : d.firstAttemptAt();
    Duration asked = lane.capServerWait(retry.retryAfter());
    RetryPolicy.Decision decision =
        lane.retryPolicy().next(t.number(), firstAttemptAt, now, longest(asked, retry.notBefore()));
    String errorClass = retry.errorClass().stored();
    return switch (decision) {
      case RetryPolicy.RetryAt at ->
          new Finish.Retry(d.id(), t.token(), record(t, retry, "retry"), at.at(), errorClass);
      case RetryPolicy.GiveUp giveUp ->
          new Finish.Dead(
              d.id(),
              t.token(),
              record(t, retry, "dead"),
              giveUp.reason() + "; last error: " + retry.error(),
              errorClass);
    };
  }

  private static AttemptRecord record(Try t, DeliveryResult.RetryLater retry, String outcome) {
    return new AttemptRecord(
        t.number(),
        t.started(),
        t.took(),
        retry.status(),
        outcome,
        retry.error(),
        cut(retry.excerpt()));
  }

  /**
   * What one request tells about the destination as a whole (breaker, pause), or null when no
   * request was made: it failed only if every delivery in it is to be tried again; the longest wait
   * asked for applies.
   */
  static DeliveryResult signal(List<Attempted> attempted) {
    DeliveryResult first = null;
    DeliveryResult.RetryLater longestRetry = null;
    DeliveryResult.Delivered longestPause = null;
    boolean allRetry = true;
    for (Attempted a : attempted) {
      DeliveryResult r = a.result();
      if (r == null) {
        continue;
      }
      first = first == null ? r : first;
      if (r instanceof DeliveryResult.RetryLater retry) {
        if (longestRetry == null || longer(retry.retryAfter(), longestRetry.retryAfter())) {
          longestRetry = retry;
        }
      } else {
        allRetry = false;
        if (r instanceof DeliveryResult.Delivered ok
            && (longestPause == null || longer(ok.pauseFor(), longestPause.pauseFor()))) {
          longestPause = ok;
        }
      }
    }
    if (first == null) {
      return null;
    }
    if (allRetry) {
      return longestRetry;
    }
    Duration wait = longestRetry == null ? null : longestRetry.retryAfter();
    if (longestPause != null && longer(longestPause.pauseFor(), wait)) {
      wait = longestPause.pauseFor();
    }
    return new DeliveryResult.Delivered(200, null, wait);
  }

  private static Duration longest(Duration a, Duration b) {
    return longer(b, a) ? b : a;
  }

  private static boolean longer(Duration a, Duration b) {
    return a != null && (b == null || a.compareTo(b) > 0);
  }

  private static String cut(String excerpt) {
    if (excerpt == null || excerpt.length() <= MAX_EXCERPT) {
      return excerpt;
    }
    return excerpt.substring(0, MAX_EXCERPT) + "…";
  }
}
