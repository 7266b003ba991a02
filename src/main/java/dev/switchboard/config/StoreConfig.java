package dev.switchboard.config;

import java.time.Duration;

/**
 * Where events live.
 *
 * @param type {@code sqlite} (default) or {@code postgres}
 * @param path the SQLite file (sqlite only; default data/switchboard.db)
 * @param url JDBC URL (postgres only)
 * @param maxSizeBytes cap on the SQLite file size, 0 for none: past it writes fail like a full disk
 *     and ingest answers 503
 * @param retention how long finished history is kept
 */
public record StoreConfig(
    String type,
    String path,
    String url,
    String user,
    String password,
    long maxSizeBytes,
    Retention retention) {

  /**
   * What the housekeeping purge keeps ({@code store.retention}).
   *
   * @param delivered an event whose deliveries are all final (delivered, skipped or discarded) is
   *     purged, with its deliveries and attempts, this long after it was received and its last
   *     delivery changed (default 7d)
   * @param dead an undischarged dead letter keeps its event this long after it died (default 30d)
   * @param interval how often the purge runs (default 10m)
   */
  public record Retention(Duration delivered, Duration dead, Duration interval) {
    public static final Retention DEFAULT =
        new Retention(Duration.ofDays(7), Duration.ofDays(30), Duration.ofMinutes(10));
  }
}
