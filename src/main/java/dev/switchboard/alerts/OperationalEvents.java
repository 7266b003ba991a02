package dev.switchboard.alerts;

import java.time.Instant;

/**
 * What the gateway's parts tell the operator about (docs/operational-events.md): each call is one
 * occurrence; whether it becomes an event, is held back by a quiet period or batched, is {@link
 * Alerts}'s decision. Calls never block and never throw: they come from the dispatcher's loop,
 * ingest threads and pulled sources. Each does nothing unless implemented.
 */
public interface OperationalEvents {

  /** A delivery became a dead letter. */
  default void deliveryDead(
      String destination,
      String route,
      String source,
      String deliveryId,
      String eventId,
      int attempts,
      String errorClass,
      String error) {}

  /** The destination's circuit breaker opened (until {@code until}) after {@code lastError}. */
  default void breakerOpened(String destination, Instant until, String lastError) {}

  /** The destination's circuit breaker closed again: the resolution of {@link #breakerOpened}. */
  default void breakerClosed(String destination) {}

  /** The destination asked to be left alone (Retry-After, a quota) until {@code until}. */
  default void held(String destination, Instant until, String reason) {}

  /** The destination refused the gateway's credentials (401/403), after a fresh token if any. */
  default void credentialsRefused(String destination, int status, String error) {}

  /** Ingest answered a source 503: the store is unavailable or the backlog is over its mark. */
  default void sourceRefusing(String source, String reason) {}

  /** Ingest accepted a source's event again after {@link #sourceRefusing}. */
  default void sourceAccepting(String source) {}

  /** One request refused for a reason a sender can fix (signature, schema, JSON, …). */
  default void rejected(String source, String reason) {}

  /** An event failed its source's schema and was stored quarantined. */
  default void quarantined(String source, String eventId, String reason) {}

  /** A pulled source lost its connection (or all its channels). */
  default void sourceDisconnected(String source, String why) {}

  /** A pulled source is connected again: the resolution of {@link #sourceDisconnected}. */
  default void sourceReconnected(String source) {}

  /** Nothing is reported (tests and tools that run no gateway). */
  OperationalEvents NONE = new OperationalEvents() {};
}
