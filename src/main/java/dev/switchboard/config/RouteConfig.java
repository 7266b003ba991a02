package dev.switchboard.config;

import dev.switchboard.expr.Expression;

/**
 * source → optional filter → optional enrichment → optional transform → destination.
 *
 * @param when filter expression, or null for every event
 * @param transform body-building expression, or null to send the payload as it is
 * @param enrich enrichment step, or null
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
    Enrich enrich) {

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
   * @param path the API path to fetch ({@code path:} template or {@code get:} expression), relative
   *     to the enricher's API, each value from the event encoded as one segment
   * @param as the binding name the result is available under ({@code $as})
   */
  public record Enrich(String using, EnrichPath path, String as) {}
}
