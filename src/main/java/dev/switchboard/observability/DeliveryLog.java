package dev.switchboard.observability;

import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One JSON log line for every dead letter and every replay, with the fields an operator greps for
 * in the line's {@code mdc}: {@code eventId}, {@code deliveryId}, {@code route}, {@code
 * destination}, {@code attempt} (the number of the last attempt; 0 when none was made), {@code
 * errorClass} and {@code traceId} (the event's trace, docs/telemetry.md). Never a payload, an error
 * text (it may quote one) or a URL.
 */
public final class DeliveryLog {
  private static final Logger LOG = LoggerFactory.getLogger("dev.switchboard.deliveries");

  private DeliveryLog() {}

  private static void put(String key, String value) {
    if (value == null) {
      MDC.remove(key);
    } else {
      MDC.put(key, value);
    }
  }

  /** A delivery became a dead letter (its outcome is written); {@code deliveryId} may be null. */
  public static void deadLetter(
      String eventId,
      String deliveryId,
      String route,
      String destination,
      int attempt,
      String errorClass) {
    deadLetter(eventId, deliveryId, route, destination, attempt, errorClass, null);
  }

  /** As above, with the event's trace id (null when it has none). */
  public static void deadLetter(
      String eventId,
      String deliveryId,
      String route,
      String destination,
      int attempt,
      String errorClass,
      String traceId) {
    log(eventId, deliveryId, route, destination, attempt, errorClass, "dead letter", null, traceId);
  }

  /** Whether {@link #attempted} writes a line for a failed (or a successful) attempt. */
  public static boolean logsAttempt(boolean failed) {
    return failed ? LOG.isInfoEnabled() : LOG.isDebugEnabled();
  }

  /**
   * One attempt ended: at INFO when it failed (retry or dead), at DEBUG otherwise, with {@code
   * outcome}, {@code status} (0 without an answer) and {@code traceId} (the event's trace; null
   * when it has none) in the line's {@code mdc} besides the delivery's fields.
   */
  public static void attempted(
      String eventId,
      String deliveryId,
      String route,
      String destination,
      int attempt,
      String outcome,
      int status,
      String errorClass,
      String traceId) {
    boolean failed = errorClass != null;
    if (!logsAttempt(failed)) {
      return;
    }
    Map<String, String> before = MDC.getCopyOfContextMap();
    try {
      put("eventId", eventId);
      put("deliveryId", deliveryId);
      put("route", route);
      put("destination", destination);
      put("attempt", Integer.toString(attempt));
      put("outcome", outcome);
      put("status", Integer.toString(status));
      put("errorClass", errorClass);
      put("traceId", traceId);
      String format = "attempt {} of delivery {} on route {} to {}: {} (status {}, error class {})";
      Object[] args = {
        attempt, deliveryId, route, destination, outcome, status, failed ? errorClass : "none"
      };
      if (failed) {
        LOG.info(format, args);
      } else {
        LOG.debug(format, args);
      }
    } finally {
      if (before == null) {
        MDC.clear();
      } else {
        MDC.setContextMap(before);
      }
    }
  }

  /** A dead (or delivered) delivery was sent back to pending by an operator. */
  public static void replayed(
      String eventId,
      String deliveryId,
      String route,
      String destination,
      int attempt,
      String errorClass,
      String by) {
    log(eventId, deliveryId, route, destination, attempt, errorClass, "replayed", by, null);
  }

  private static void log(
      String eventId,
      String deliveryId,
      String route,
      String destination,
      int attempt,
      String errorClass,
      String what,
      String by,
      String traceId) {
    Map<String, String> before = MDC.getCopyOfContextMap();
    try {
      put("eventId", eventId);
      put("deliveryId", deliveryId);
      put("route", route);
      put("destination", destination);
      put("attempt", Integer.toString(attempt));
      put("errorClass", errorClass);
      put("by", by);
      put("traceId", traceId);
      LOG.info(
          "{}: delivery {} of event {} on route {} to {} (attempt {}, error class {})",
          what,
          deliveryId,
          eventId,
          route,
          destination,
          attempt,
          errorClass == null ? "none" : errorClass);
    } finally {
      if (before == null) {
        MDC.clear();
      } else {
        MDC.setContextMap(before);
      }
    }
  }
}
