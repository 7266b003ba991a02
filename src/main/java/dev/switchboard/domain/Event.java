package dev.switchboard.domain;

import java.time.Instant;
import java.util.Map;

/**
 * One accepted request body, after redaction, as stored.
 *
 * @param payload the redacted JSON body, as UTF-8 text
 * @param headers the selected request headers (lower-case names), never secrets or signatures
 * @param quarantineReason why the body failed its schema; null unless {@code status} is QUARANTINED
 * @param releasedBy who released it from quarantine; null unless it was quarantined and released
 * @param releasedAt when it was released; null unless {@code releasedBy} is set
 */
public record Event(
    EventId id,
    String source,
    String idempotencyKey,
    Instant eventTime,
    String partitionKey,
    Instant receivedAt,
    String payload,
    Map<String, String> headers,
    EventStatus status,
    String quarantineReason,
    String releasedBy,
    Instant releasedAt) {}
