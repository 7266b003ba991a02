package dev.switchboard.ingest;

import dev.switchboard.alerts.OperationalEvents;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What ingest's answers tell the operator (docs/operational-events.md): a source refused with 503
 * and accepted again, refusals a sender can fix, quarantined events. Holds which sources are being
 * refused, so that only a change is news.
 */
final class AnswersReported {
  /** Told what an operator should hear of; set once the gateway is wired. */
  private volatile OperationalEvents ops = OperationalEvents.NONE;

  /** The sources answered 503 (store, backlog) since their last accepted event. */
  private final ConcurrentHashMap<String, String> refusing = new ConcurrentHashMap<>();

  void reportTo(OperationalEvents ops) {
    this.ops = ops;
  }

  OperationalEvents ops() {
    return ops;
  }

  /**
   * What an answer tells the operator (docs/operational-events.md): refusing a source (store,
   * backlog) and accepting it again, refusals a sender can fix, quarantined events. The operational
   * source's own answers are not reported: its events cannot be about storing themselves.
   */
  void report(String source, IngestResponse response, String outcome) {
    int status = response.status();
    if (status / 100 == 2) {
      if (!refusing.isEmpty()) {
        // the map's change and the report together, so a racing 503 cannot be reported after
        refusing.computeIfPresent(
            source,
            (name, reason) -> {
              ops.sourceAccepting(name);
              return null;
            });
      }
      if ("quarantined".equals(outcome)) {
        Object id = response.body().get("eventId");
        ops.quarantined(source, String.valueOf(id), "schema violation");
      }
      return;
    }
    switch (outcome) {
      case "store_unavailable", "backlog_full" ->
          refusing.compute(
              source,
              (name, was) -> {
                if (!outcome.equals(was)) {
                  ops.sourceRefusing(name, outcome); // a new reason is news too
                }
                return outcome;
              });
      case "signature_rejected",
          "ip_not_allowed",
          "invalid_json",
          "schema_invalid",
          "body_too_large",
          "unsupported_media_type",
          "idempotency_key_missing",
          "idempotency_key_invalid",
          "partition_key_invalid" ->
          ops.rejected(source, outcome);
      default -> {}
    }
  }
}
