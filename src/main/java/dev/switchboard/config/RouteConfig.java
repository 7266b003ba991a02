package dev.switchboard.config;

import dev.switchboard.expr.Expression;
import java.time.Duration;

/**
 * source → optional filter → optional enrichment → optional transform → destination.
 *
 * @param when filter expression, or null for every event
 * @param transform body-building expression, or null to send the payload as it is
 * @param enrich enrichment step, or null
 * @param method the HTTP method this route's deliveries use, overriding the destination's; null for
 *     the destination's own
 * @param whenEnriched a second filter, decided at delivery after the enrichment (a skipped delivery
 *     is recorded filtered, like one {@code when} skipped); null for none
 * @param delay how long after the event's receipt its deliveries on this route become due; zero for
 *     at once
 * @param reorderWindow under per-key ordering, how long after receipt a key's delivery waits for an
 *     earlier event of the key that arrives late; zero for none
 */
public record RouteConfig(
    String name,
    String from,
    Expression when,
    Expression transform,
    String to,
    Ordering ordering,
    Stale stale,
    OnDead onDead,
    Enrich enrich,
    String method,
    Expression whenEnriched,
    Duration delay,
    Duration reorderWindow) {

  public RouteConfig {
    delay = delay == null ? Duration.ZERO : delay;
    reorderWindow = reorderWindow == null ? Duration.ZERO : reorderWindow;
  }

  /** A route with none of the delivery-time extras (method, second filter, delay, window). */
  public RouteConfig(
      String name,
      String from,
      Expression when,
      Expression transform,
      String to,
      Ordering ordering,
      Stale stale,
      OnDead onDead,
      Enrich enrich) {
    this(
        name,
        from,
        when,
        transform,
        to,
        ordering,
        stale,
        onDead,
        enrich,
        null,
        null,
        Duration.ZERO,
        Duration.ZERO);
  }

  /**
   * How long after receipt this route's deliveries become due: the longer of {@code delay} and
   * {@code reorder_window}.
   */
  public Duration holdAfterReceipt() {
    return delay.compareTo(reorderWindow) >= 0 ? delay : reorderWindow;
  }

  /**
   * Whether {@code when} reads the enrichment's result ({@code $<as>}), so it can only be decided
   * after the lookup, at delivery; any other filter is decided at ingest, and a filtered event
   * costs no lookup.
   */
  public boolean whenNeedsEnrichment() {
    return enrich != null && when != null && when.text().contains("$" + enrich.as());
  }

  /** What a dead-lettered delivery does to the later ones of its key under per-key ordering. */
  public enum OnDead {
    /** The next delivery of the key goes on (default). */
    CONTINUE,
    /** The key waits until the dead letter is replayed or discarded. */
    BLOCK
  }

  public enum Ordering {
    NONE,
    PER_KEY
  }

  public enum Stale {
    SKIP,
    DELIVER
  }

  /**
   * @param using the enricher's name
   * @param path what to fetch: the API path ({@code path:} template or {@code get:} expression),
   *     relative to the enricher's API, each value from the event encoded as one segment; or a
   *     {@code salesforce} enricher's SOQL ({@code query:}), each value bound as one literal
   * @param as the binding name the result is available under ({@code $as})
   */
  public record Enrich(String using, EnrichPath path, String as) {}
}
