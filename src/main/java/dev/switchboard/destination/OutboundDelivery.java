package dev.switchboard.destination;

import java.util.Map;

/**
 * One attempt's input, prepared by the dispatcher: the body is the route's transform output (or the
 * event payload when the route has none), already serialised.
 *
 * @param idempotencyKey stable across retries and replays of the same delivery
 * @param partitionKey the event's partition key, or null
 * @param attempt 1 for the first attempt
 */
public record OutboundDelivery(
    String deliveryId,
    String eventId,
    String idempotencyKey,
    String partitionKey,
    byte[] body,
    Map<String, String> extraHeaders,
    int attempt) {}
