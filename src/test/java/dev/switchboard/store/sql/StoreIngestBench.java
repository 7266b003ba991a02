package dev.switchboard.store.sql;

import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.NewEvent;
import dev.switchboard.testing.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Store-level ingest benchmark (not a test): {@code threads} clients each ingest events one at a
 * time through {@link SqlEventStore} (each waits for its durable ack, as an HTTP sender does), on
 * SQLite in a temp file and on the embedded PostgreSQL. Prints events/s and commits/s. Started by
 * {@code bench/store.sh}; arguments: {@code [sqlite|postgres|both] [events] [threads]}.
 */
public final class StoreIngestBench {
  private StoreIngestBench() {}

  public static void main(String[] args) throws Exception {
    String which = args.length > 0 ? args[0] : "both";
    int events = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 64;
    if (!which.equals("postgres")) {
      Path dir = Files.createTempDirectory("store-bench-");
      run("sqlite", new SqliteDialect(dir.resolve("store.db")), events, threads);
    }
    if (!which.equals("sqlite")) {
      try (EmbeddedPostgres pg = EmbeddedPostgres.start()) {
        String db = pg.createDatabase("bench");
        run(
            "postgres",
            new PostgresDialect(
                pg.jdbcUrl(db), EmbeddedPostgres.USER, EmbeddedPostgres.PASSWORD, 4),
            events,
            threads);
      }
    }
    System.exit(0);
  }

  private static void run(String name, Dialect dialect, int events, int threads) throws Exception {
    AtomicLong commits = new AtomicLong();
    try (SqlEventStore store =
        SqlEventStore.open(dialect, Clock.systemUTC(), n -> commits.incrementAndGet())) {
      ingest(store, "warm", events / 4, threads);
      commits.set(0);
      long start = System.nanoTime();
      ingest(store, "run", events, threads);
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "%-8s %6d events, %3d threads: %8.0f events/s, %6.0f commits/s (%.1f events/commit)%n",
          name,
          events,
          threads,
          events / seconds,
          commits.get() / seconds,
          (double) events / Math.max(1, commits.get()));
    }
  }

  private static void ingest(SqlEventStore store, String prefix, int events, int threads)
      throws Exception {
    AtomicLong next = new AtomicLong();
    List<Thread> clients = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      clients.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (long i; (i = next.getAndIncrement()) < events; ) {
                      try {
                        store.ingest(event(prefix + "-" + i)).get(30, TimeUnit.SECONDS);
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      }
                    }
                  }));
    }
    for (Thread c : clients) {
      c.join();
    }
  }

  private static NewEvent event(String key) {
    Instant now = Instant.now();
    return new NewEvent(
        "bench",
        key,
        now.plus(Duration.ofHours(48)),
        now,
        key,
        now,
        "{\"k\":\"" + key + "\",\"pad\":\"" + "x".repeat(200) + "\"}",
        Map.of("content-type", "application/json"),
        EventStatus.ACCEPTED,
        null,
        List.of(new NewEvent.RouteTarget("r1", "d1"), new NewEvent.RouteTarget("r2", "d2")));
  }
}
