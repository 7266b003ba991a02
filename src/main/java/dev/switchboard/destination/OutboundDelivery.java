package dev.switchboard.destination;

import java.util.Map;

/**
 * One attempt's input, prepared by the dispatcher: the body is the route's transform output (or the
 * event payload when the route has none), already serialised.
 *
 * @param idempotencyKey stable across retries and replays of the same delivery
 * @param partitionKey the event's partition key, or null
 * @param attempt 1 for the first attempt
 * @param method the route's {@code method:}, which overrides the destination's; null when the route
 *     sets none
 * @param bindings what the route's expressions saw ({@code $headers}, {@code $source}, {@code
 *     $eventId}, {@code $eventTime}, {@code $receivedAt} and each enrichment's result under its
 *     {@code as} name), for templates a connector fills from the delivery (docs/connectors.md);
 *     never logged
 */
public record OutboundDelivery(
    String deliveryId,
    String eventId,
    String idempotencyKey,
    String partitionKey,
    byte[] body,
    Map<String, String> extraHeaders,
    int attempt,
    String method,
    Map<String, ?> bindings) {

  /** A delivery with no route method and no bindings (connectors' own tests). */
  public OutboundDelivery(
      String deliveryId,
      String eventId,
      String idempotencyKey,
      String partitionKey,
      byte[] body,
      Map<String, String> extraHeaders,
      int attempt) {
    this(
        deliveryId,
        eventId,
        idempotencyKey,
        partitionKey,
        body,
        extraHeaders,
        attempt,
        null,
        Map.of());
  }
}
