package dev.switchboard.config;

import java.time.Duration;

/**
 * Where events live.
 *
 * @param type {@code sqlite} (default) or {@code postgres}
 * @param path the SQLite file (sqlite only; default data/switchboard.db)
 * @param url JDBC URL (postgres only)
 * @param user, password PostgreSQL login (postgres only; from {@code ${ENV}} or {@code ${file:}})
 * @param maxSizeBytes cap on the SQLite file size, 0 for none: past it writes fail like a full disk
 *     and ingest answers 503
 * @param retention how long finished history is kept
 * @param poolSize connections this node opens to PostgreSQL (postgres only; default 8, at least 4:
 *     writers for events, delivery claims and delivery outcomes, the rest readers)
 */
public record StoreConfig(
    String type,
    String path,
    String url,
    String user,
    String password,
    long maxSizeBytes,
    Retention retention,
    int poolSize) {
  /** Connections a node opens to PostgreSQL when {@code pool_size} is not set. */
  public static final int DEFAULT_POOL_SIZE = 8;

  public StoreConfig(
      String type,
      String path,
      String url,
      String user,
      String password,
      long maxSizeBytes,
      Retention retention) {
    this(type, path, url, user, password, maxSizeBytes, retention, DEFAULT_POOL_SIZE);
  }

  /** Never shows the password. */
  @Override
  public String toString() {
    return ("StoreConfig[type=%s, path=%s, url=%s, user=%s, password=%s, maxSizeBytes=%d,"
            + " retention=%s, poolSize=%d]")
        .formatted(
            type,
            path,
            url,
            user,
            password == null ? null : "***",
            maxSizeBytes,
            retention,
            poolSize);
  }

  /**
   * What the housekeeping purge keeps ({@code store.retention}). An event is removed, with its
   * deliveries and their attempts, once it is older than {@code delivered} and each of its
   * deliveries is settled:
   *
   * <ul>
   *   <li>delivered or skipped, and unchanged for {@code delivered};
   *   <li>a dead letter: dead for {@code dead}, unless handled first. Handled means discarded (the
   *       delivery becomes skipped, and is then kept {@code delivered} from the discard, like any
   *       finished delivery) or replayed (it becomes pending again and its clock starts over).
   * </ul>
   *
   * A delivery that can still be attempted (pending, in flight, retry scheduled) keeps its event
   * whatever its age, and a quarantined event is kept {@code dead}. Idempotency keys go when their
   * TTL ends ({@code sources.*.idempotency.ttl}), whatever became of their event; the same request
   * sent after that is a new event.
   *
   * @param delivered how long finished history is kept (default 7d)
   * @param dead how long an unhandled dead letter is kept (default 30d)
   * @param interval how often the purge runs, in batches of a few hundred events (default 10m)
   */
  public record Retention(Duration delivered, Duration dead, Duration interval) {
    public static final Retention DEFAULT =
        new Retention(Duration.ofDays(7), Duration.ofDays(30), Duration.ofMinutes(10));
  }
}
