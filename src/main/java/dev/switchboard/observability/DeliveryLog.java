package dev.switchboard.observability;

import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One JSON log line for every dead letter and every replay, with the fields an operator greps for
 * in the line's {@code mdc}: {@code eventId}, {@code deliveryId}, {@code route}, {@code
 * destination}, {@code attempt} (the number of the last attempt; 0 when none was made) and {@code
 * errorClass}. Never a payload, an error text (it may quote one) or a URL.
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
    log(eventId, deliveryId, route, destination, attempt, errorClass, "dead letter", null);
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
    log(eventId, deliveryId, route, destination, attempt, errorClass, "replayed", by);
  }

  private static void log(
      String eventId,
      String deliveryId,
      String route,
      String destination,
      int attempt,
      String errorClass,
      String what,
      String by) {
    Map<String, String> before = MDC.getCopyOfContextMap();
    try {
      put("eventId", eventId);
      put("deliveryId", deliveryId);
      put("route", route);
      put("destination", destination);
      put("attempt", Integer.toString(attempt));
      put("errorClass", errorClass);
      put("by", by);
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
