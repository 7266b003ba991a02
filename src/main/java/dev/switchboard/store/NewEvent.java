package dev.switchboard.store;

import dev.switchboard.domain.EventStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What ingest hands the store: a verified, redacted event and the routes it starts deliveries on.
 *
 * @param idempotencyKey null when the source does not de-duplicate
 * @param keyExpiresAt when the key may be reused; null when there is no key
 * @param routes one (route, destination) pair per delivery to create, in PENDING; empty for a
 *     quarantined event
 */
public record NewEvent(
    String source,
    String idempotencyKey,
    Instant keyExpiresAt,
    Instant eventTime,
    String partitionKey,
    Instant receivedAt,
    String payload,
    Map<String, String> headers,
    EventStatus status,
    String quarantineReason,
    List<RouteTarget> routes) {

  public record RouteTarget(String route, String destination) {}
}
