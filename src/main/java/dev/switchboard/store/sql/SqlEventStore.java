package dev.switchboard.store.sql;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.EventPage;
import dev.switchboard.store.EventQuery;
import dev.switchboard.store.EventStore;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import dev.switchboard.store.Purged;
import dev.switchboard.store.StoreUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import org.flywaydb.core.Flyway;

/**
 * The event store on SQL: shared statements, one {@link Dialect} for what differs. All writes go
 * through one connection owned by a {@link SqlWriter} (group commit); reads use a few connections
 * of their own, so they never wait for a sync. The deliveries side is {@link #deliveries()}.
 */
public final class SqlEventStore implements EventStore {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROBE_PADDING = "p".repeat(16_384);

  /**
   * Where the database is shared, how long the backlog count may come from this node's own tally
   * before it is read again from the database (other nodes add and finish deliveries too).
   */
  private static final long SHARED_COUNT_REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Dialect dialect;
  private final Clock clock;
  private final SqlReaders readers;
  private final BacklogTally unfinishedDeliveries = new BacklogTally();
  private final AtomicLong unfinishedCountedAt = new AtomicLong(System.nanoTime());
  private final SqlDeliveryQueue deliveries;
  private final SqlWriter writer;

  /**
   * Delivery claims, and delivery outcomes: {@link #writer} itself on SQLite; on PostgreSQL a
   * connection each, so that they are written beside ingest rather than in turn with it.
   */
  private final SqlWriter claimWriter;

  private final SqlWriter outcomeWriter;

  private final SqlIngest ingest;
  private final SqlQuarantine quarantine;

  private SqlEventStore(Dialect dialect, Clock clock, IntConsumer batchSizeObserver)
      throws SQLException {
    this.dialect = dialect;
    this.clock = clock;
    this.readers = new SqlReaders(dialect, dialect.readers());
    unfinishedDeliveries.set(readers.read(c -> countByDestination(c, COUNT_UNFINISHED)));
    long firstSeq =
        readers.read(c -> queryLong(c, "SELECT COALESCE(MAX(seq), 0) FROM deliveries")) + 1;
    this.writer = new SqlWriter(dialect, batchSizeObserver);
    SqlWriter claims = writer;
    SqlWriter outcomes = writer;
    if (dialect.deliveryWriter()) {
      try {
        claims = new SqlWriter(dialect, "store-claims", dialect::prepareDeliveryWriter, n -> {});
        outcomes =
            new SqlWriter(dialect, "store-outcomes", dialect::prepareDeliveryWriter, n -> {});
      } catch (SQLException | RuntimeException e) {
        if (claims != writer) {
          claims.close();
        }
        writer.close();
        throw e;
      }
    }
    this.claimWriter = claims;
    this.outcomeWriter = outcomes;
    this.deliveries =
        new SqlDeliveryQueue(writer, claims, outcomes, readers, unfinishedDeliveries, clock);
    this.ingest = new SqlIngest(dialect, deliveries, firstSeq);
    this.quarantine = new SqlQuarantine(writer, ingest);
  }

  private static final String COUNT_UNFINISHED =
      "SELECT destination, COUNT(*) FROM deliveries"
          + " WHERE "
          + DeliveryStateSql.in("state", DeliveryStateSql.UNFINISHED)
          + " GROUP BY destination";

  /**
   * The same count for a shared database, taken every second: per destination (found by skipping
   * along deliveries_queue, one probe each), so that it reads the unfinished rows of
   * deliveries_queue rather than the whole delivered history.
   */
  private static final String COUNT_UNFINISHED_SHARED =
      "WITH RECURSIVE dests (d) AS (SELECT MIN(destination) FROM deliveries"
          + " UNION ALL SELECT (SELECT MIN(destination) FROM deliveries WHERE destination > dests.d)"
          + " FROM dests WHERE dests.d IS NOT NULL)"
          + " SELECT destination, COUNT(*) FROM deliveries"
          + " WHERE destination IN (SELECT d FROM dests WHERE d IS NOT NULL)"
          + " AND "
          + DeliveryStateSql.in("state", DeliveryStateSql.UNFINISHED)
          + " GROUP BY destination";

  /**
   * Migrates the schema, then opens the store; the store owns the dialect from here (closes it on
   * failure too). The migrations are one set for both databases.
   */
  public static SqlEventStore open(Dialect dialect, Clock clock, IntConsumer batchSizeObserver)
      throws SQLException {
    try {
      Flyway.configure()
          .dataSource(dialect.dataSource())
          .locations("classpath:db/migration")
          .load()
          .migrate();
      return new SqlEventStore(dialect, clock, batchSizeObserver);
    } catch (SQLException | RuntimeException e) {
      dialect.close();
      throw e;
    }
  }

  /** The writer, for tests in this package that need to hold it between batches. */
  SqlWriter writer() {
    return writer;
  }

  /** The writer of delivery outcomes (the writer itself on SQLite), for tests in this package. */
  SqlWriter outcomeWriter() {
    return outcomeWriter;
  }

  /**
   * What the nodes sharing this database tell each other (cluster-wide limits), or null when this
   * process is the database's only writer.
   */
  public dev.switchboard.store.ClusterState cluster() {
    return dialect.soleWriter() ? null : new SqlClusterState(writer, readers);
  }

  /** The delivery queue on the same database and the same writer. */
  public SqlDeliveryQueue deliveries() {
    return deliveries;
  }

  @Override
  public CompletableFuture<IngestOutcome> ingest(NewEvent event) {
    return writer.submit(ingest.op(event)).thenApply(IngestOutcome.class::cast);
  }

  /** Caps the store's size (see {@link Dialect#limitSize}); waits until applied. */
  public void limitSize(long maxSizeBytes) {
    await(
        writer.submit(
            ctx -> {
              // pragmas run outside a transaction: commit what came before, then reopen one
              Connection c = ctx.connection();
              c.commit();
              c.setAutoCommit(true);
              dialect.limitSize(c, maxSizeBytes);
              c.setAutoCommit(false);
              beat(ctx, clock.instant());
              return null;
            }));
  }

  private static void beat(SqlWriter.Context ctx, Instant at) throws SQLException {
    PreparedStatement beat = ctx.statement(SqlText.HEARTBEAT);
    beat.setLong(1, at.toEpochMilli());
    beat.executeUpdate();
  }

  private static void probeSpace(SqlWriter.Context ctx, Instant at) throws SQLException {
    PreparedStatement insert = ctx.statement(SqlText.PROBE_SPACE);
    insert.setLong(1, at.toEpochMilli());
    insert.setString(2, PROBE_PADDING);
    insert.executeUpdate();
    ctx.statement(SqlText.END_PROBE).executeUpdate();
  }

  @Override
  public Optional<Instant> pullCoverage(String source) {
    return readers.read(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(SqlText.PULL_COVERAGE)) {
            ps.setString(1, source);
            try (var rows = ps.executeQuery()) {
              return rows.next()
                  ? Optional.of(Instant.ofEpochMilli(rows.getLong(1)))
                  : Optional.<Instant>empty();
            }
          }
        });
  }

  @Override
  public void savePullCoverage(String source, Instant coveredUntil) {
    await(
        writer.submit(
            ctx -> {
              PreparedStatement save = ctx.statement(SqlText.SAVE_PULL_COVERAGE);
              save.setString(1, source);
              save.setLong(2, coveredUntil.toEpochMilli());
              save.setLong(3, clock.instant().toEpochMilli());
              save.executeUpdate();
              return null;
            }));
  }

  @Override
  public Optional<Event> findEvent(EventId id) {
    return readers.read(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(SqlText.SELECT_EVENT + " WHERE id = ?")) {
            ps.setString(1, id.value());
            return mapEvents(ps).stream().findFirst();
          }
        });
  }

  @Override
  public List<Event> findEvents(String source, EventStatus status, int limit) {
    return readers.read(
        c -> {
          String sql =
              SqlText.SELECT_EVENT
                  + " WHERE (? IS NULL OR source = ?) AND (? IS NULL OR status = ?)"
                  + " ORDER BY received_at DESC, id DESC LIMIT ?";
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            String statusValue = status == null ? null : status.dbValue();
            ps.setString(1, source);
            ps.setString(2, source);
            ps.setString(3, statusValue);
            ps.setString(4, statusValue);
            ps.setInt(5, limit);
            return mapEvents(ps);
          }
        });
  }

  @Override
  public EventPage searchEvents(EventQuery query) {
    return readers.read(c -> SqlEventSearch.run(c, query));
  }

  @Override
  public long countEvents() {
    return readers.read(c -> queryLong(c, "SELECT COUNT(*) FROM events"));
  }

  @Override
  public long countEvents(EventQuery query) {
    return readers.read(c -> SqlEventSearch.count(c, query));
  }

  @Override
  public boolean release(dev.switchboard.store.QuarantineRelease release) {
    return quarantine.release(release);
  }

  /**
   * On SQLite an exact tally kept in memory. On a shared database this node's tally, read again
   * from the database at most once a second, since other nodes add and finish deliveries too; the
   * read runs on its own virtual thread, so the request that asks never waits for it.
   */
  @Override
  public long countUnfinishedDeliveries() {
    refreshSharedCount();
    return unfinishedDeliveries.total();
  }

  /** As {@link #countUnfinishedDeliveries()}, for one destination's deliveries. */
  @Override
  public long countUnfinishedDeliveries(String destination) {
    refreshSharedCount();
    return unfinishedDeliveries.of(destination);
  }

  private void refreshSharedCount() {
    if (!dialect.soleWriter()) {
      long at = unfinishedCountedAt.get();
      long nowNanos = System.nanoTime();
      if (nowNanos - at > SHARED_COUNT_REFRESH_NANOS
          && unfinishedCountedAt.compareAndSet(at, nowNanos)) {
        Thread.ofVirtual().name("store-backlog-count").start(this::recountUnfinished);
      }
    }
  }

  /** Moves this node's tally to the database's count (see {@link BacklogTally#recounted}). */
  private void recountUnfinished() {
    try {
      Map<String, Long> before = unfinishedDeliveries.snapshot();
      Map<String, Long> counted = readers.read(c -> countByDestination(c, COUNT_UNFINISHED_SHARED));
      unfinishedDeliveries.recounted(before, counted);
    } catch (StoreUnavailableException e) {
      // keep the tally; a later call tries again
    }
  }

  /** Rows of (destination, count) as a map. */
  static Map<String, Long> countByDestination(Connection c, String sql) throws SQLException {
    Map<String, Long> counted = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        counted.put(rs.getString(1), rs.getLong(2));
      }
    }
    return counted;
  }

  @Override
  public Purged purgeHistory(
      Instant now,
      Duration delivered,
      Duration dead,
      java.util.function.Consumer<Purged> eachBatch) {
    long deliveredCutoff = now.minus(delivered).toEpochMilli();
    long deadCutoff = now.minus(dead).toEpochMilli();
    Purged total = Purged.NONE;
    SqlRetention.Position position = SqlRetention.Position.START;
    SqlRetention.Candidates next;
    do {
      SqlRetention.Position after = position;
      next = readers.read(c -> SqlRetention.candidates(c, after, deliveredCutoff, deadCutoff));
      if (!next.ids().isEmpty()) {
        Purged purged = purgeEvents(next.ids(), deliveredCutoff, deadCutoff);
        if (purged == null) {
          return total; // another node is purging: this round is its
        }
        total = total.plus(purged);
        eachBatch.accept(purged);
      }
      position = next.last();
    } while (next.ids().size() >= SqlRetention.BATCH);
    long at = now.toEpochMilli();
    String lock = dialect.purgeLock();
    int keys;
    do {
      keys = (Integer) await(writer.submit(ctx -> SqlRetention.purgeKeys(ctx, lock, at)));
      if (keys < 0) {
        return total;
      }
      Purged purged = new Purged(0, 0, 0, keys);
      total = total.plus(purged);
      eachBatch.accept(purged);
    } while (keys >= SqlRetention.BATCH);
    return total;
  }

  /**
   * One writer op: those of {@code ids} the rule still allows, checked again (a replay may race);
   * null when another node is purging.
   */
  Purged purgeEvents(List<String> ids, long deliveredCutoff, long deadCutoff) {
    String lock = dialect.purgeLock();
    return (Purged)
        await(
            writer.submit(
                ctx -> SqlRetention.purgeEvents(ctx, lock, ids, deliveredCutoff, deadCutoff)));
  }

  @Override
  public boolean isWritable() {
    if (!writer.failedSinceProbe()) {
      return true;
    }
    Instant at = clock.instant();
    try {
      writer
          .submit(
              ctx -> {
                beat(ctx, at);
                probeSpace(ctx, at);
                return null;
              })
          .get(1, TimeUnit.SECONDS);
      writer.probeSucceeded();
      return true;
    } catch (ExecutionException | TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Requests waiting for the writer thread. */
  public int waitingWrites() {
    return writer.waiting();
  }

  @Override
  public void close() {
    if (claimWriter != writer) {
      claimWriter.close();
      outcomeWriter.close();
    }
    writer.close();
    readers.close();
    dialect.close();
  }

  static List<Event> mapEvents(PreparedStatement ps) throws SQLException {
    List<Event> events = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        events.add(
            new Event(
                new EventId(rs.getString("id")),
                rs.getString("source"),
                rs.getString("idempotency_key"),
                Instant.ofEpochMilli(rs.getLong("event_time")),
                rs.getString("partition_key"),
                Instant.ofEpochMilli(rs.getLong("received_at")),
                rs.getString("payload"),
                fromJson(rs.getString("headers")),
                EventStatus.fromDb(rs.getString("status")),
                rs.getString("quarantine_reason"),
                rs.getString("released_by"),
                rs.getObject("released_at") == null
                    ? null
                    : Instant.ofEpochMilli(rs.getLong("released_at"))));
      }
    }
    return events;
  }

  static long queryLong(Connection c, String sql) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new StoreUnavailableException(
          "store write failed: " + SqlWriter.describe(e.getCause()), e);
    } catch (TimeoutException e) {
      throw new StoreUnavailableException("store write timed out", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("interrupted", e);
    }
  }

  static Map<String, String> fromJson(String text) {
    try {
      return JSON.readValue(text, new TypeReference<>() {});
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("unreadable headers column", e);
    }
  }
}
