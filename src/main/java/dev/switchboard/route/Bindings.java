package dev.switchboard.route;

import dev.switchboard.domain.EventId;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * What expressions see besides the payload (docs/guarantees.md): {@code $headers}, {@code $source},
 * {@code $eventId}, {@code $eventTime}, {@code $receivedAt}, times as ISO-8601 text ({@link
 * Instant#toString()}). The names live here only.
 *
 * <p>Ingest and delivery do not see quite the same values, and must not be made to: at ingest the
 * event has no id yet (the store assigns it in the transaction that writes the deliveries), {@code
 * $headers} are every header of the request (a filter may read one the source does not keep), and
 * the times are as precise as the clock; at delivery the headers are the ones the source kept and
 * the times are the stored ones, to the millisecond. Releasing a quarantined event decides its
 * filters as at ingest, on what was stored (the kept headers, the stored times).
 */
public final class Bindings {
  private static final String HEADERS = "headers";
  private static final String SOURCE = "source";
  private static final String EVENT_ID = "eventId";
  private static final String EVENT_TIME = "eventTime";
  private static final String RECEIVED_AT = "receivedAt";

  private Bindings() {}

  /**
   * What a source's own expressions see at ingest (idempotency key, event time, partition key): the
   * event time is not known yet, since it may come from one of them.
   *
   * @param headers the request's headers, lower-case names; kept as given, not copied
   * @return a fresh mutable map
   */
  public static Map<String, Object> ofRequest(
      String source, Map<String, String> headers, Instant receivedAt) {
    Map<String, Object> bindings = new HashMap<>();
    bindings.put(HEADERS, headers);
    bindings.put(SOURCE, source);
    bindings.put(RECEIVED_AT, receivedAt.toString());
    return bindings;
  }

  /**
   * What a route's filter sees at ingest: the request's bindings and the event time.
   *
   * @return a fresh mutable map; {@code request} is left as it is
   */
  public static Map<String, Object> atIngest(Map<String, Object> request, Instant eventTime) {
    Map<String, Object> bindings = new HashMap<>(request);
    bindings.put(EVENT_TIME, eventTime.toString());
    return bindings;
  }

  /**
   * What a route's expressions see at delivery (filter, enrichment path, transform, key).
   *
   * @return a fresh mutable map, to which the enrichment adds its result under its {@code as} name
   */
  public static Map<String, Object> atDelivery(
      Map<String, String> headers,
      String source,
      EventId eventId,
      Instant eventTime,
      Instant receivedAt) {
    Map<String, Object> bindings = new HashMap<>();
    bindings.put(HEADERS, headers);
    bindings.put(SOURCE, source);
    bindings.put(EVENT_ID, eventId.value());
    bindings.put(EVENT_TIME, eventTime.toString());
    bindings.put(RECEIVED_AT, receivedAt.toString());
    return bindings;
  }
}
