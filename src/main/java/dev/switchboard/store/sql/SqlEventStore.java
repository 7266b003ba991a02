package dev.switchboard.store.sql;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.EventStore;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import dev.switchboard.store.StoreUnavailableException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
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
 * through one connection owned by a {@link GroupCommitWriter} thread; reads use their own
 * connection, so they never wait for a sync.
 */
public final class SqlEventStore implements EventStore {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(SqlEventStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int QUEUE_CAPACITY = 20_000;
  private static final int MAX_BATCH = 1_000;
  private static final String PROBE_PADDING = "p".repeat(16_384);

  private sealed interface Write {}

  private record IngestWrite(NewEvent event) implements Write {}

  private record Heartbeat(Instant at) implements Write {}

  private record LimitSize(long maxBytes) implements Write {}

  private record PurgeKeys(Instant before) implements Write {}

  private final Dialect dialect;
  private final Clock clock;
  private final Connection writer;
  private final Connection reader;
  private final GroupCommitWriter<Write, Object> groupCommit;
  private final AtomicLong unfinishedDeliveries = new AtomicLong();
  private volatile boolean lastWriteOk = true;

  private SqlEventStore(Dialect dialect, Clock clock, IntConsumer batchSizeObserver)
      throws SQLException {
    this.dialect = dialect;
    this.clock = clock;
    this.writer = dialect.dataSource().getConnection();
    dialect.prepareWriter(writer);
    writer.setAutoCommit(false);
    this.reader = dialect.dataSource().getConnection();
    dialect.prepareReader(reader);
    unfinishedDeliveries.set(queryCountUnfinished());
    this.groupCommit =
        new GroupCommitWriter<>(
            "store-group-commit", QUEUE_CAPACITY, MAX_BATCH, this::writeBatch, batchSizeObserver);
  }

  /** Migrates the schema, then opens the store. */
  public static SqlEventStore open(Dialect dialect, Clock clock, IntConsumer batchSizeObserver)
      throws SQLException {
    Flyway.configure()
        .dataSource(dialect.dataSource())
        .locations("classpath:db/migration")
        .load()
        .migrate();
    return new SqlEventStore(dialect, clock, batchSizeObserver);
  }

  @Override
  public CompletableFuture<IngestOutcome> ingest(NewEvent event) {
    return groupCommit.submit(new IngestWrite(event)).thenApply(IngestOutcome.class::cast);
  }

  /** Caps the store's size (see {@link Dialect#limitSize}); waits until applied. */
  public void limitSize(long maxSizeBytes) {
    await(groupCommit.submit(new LimitSize(maxSizeBytes)));
  }

  private List<Object> writeBatch(List<Write> batch) throws SQLException {
    List<Object> results = new ArrayList<>(batch.size());
    long newDeliveries = 0;
    try (PreparedStatement claimKey = writer.prepareStatement(SqlText.CLAIM_KEY);
        PreparedStatement findKey = writer.prepareStatement(SqlText.FIND_KEY);
        PreparedStatement insertEvent = writer.prepareStatement(SqlText.INSERT_EVENT);
        PreparedStatement insertDelivery = writer.prepareStatement(SqlText.INSERT_DELIVERY)) {
      for (Write write : batch) {
        switch (write) {
          case IngestWrite w -> {
            IngestOutcome outcome =
                writeEvent(w.event(), claimKey, findKey, insertEvent, insertDelivery);
            if (outcome instanceof IngestOutcome.Accepted) {
              newDeliveries += w.event().routes().size();
            }
            results.add(outcome);
          }
          case Heartbeat h -> {
            beat(h.at());
            probeSpace(h.at());
            results.add(null);
          }
          case PurgeKeys p -> {
            try (PreparedStatement purge = writer.prepareStatement(SqlText.PURGE_KEYS)) {
              purge.setLong(1, p.before().toEpochMilli());
              results.add(purge.executeUpdate());
            }
          }
          case LimitSize l -> {
            // pragmas run outside a transaction: commit what came before, then reopen one
            writer.commit();
            writer.setAutoCommit(true);
            dialect.limitSize(writer, l.maxBytes());
            writer.setAutoCommit(false);
            beat(clock.instant());
            results.add(null);
          }
        }
      }
      insertDelivery.executeBatch();
      writer.commit();
      lastWriteOk = true;
    } catch (Throwable e) {
      // whatever went wrong, nothing of this batch may stay written: its senders get 503
      lastWriteOk = false;
      rollbackQuietly();
      throw e;
    }
    unfinishedDeliveries.addAndGet(newDeliveries);
    return results;
  }

  private void beat(Instant at) throws SQLException {
    try (PreparedStatement beat = writer.prepareStatement(SqlText.HEARTBEAT)) {
      beat.setLong(1, at.toEpochMilli());
      beat.executeUpdate();
    }
  }

  private void probeSpace(Instant at) throws SQLException {
    try (PreparedStatement insert = writer.prepareStatement(SqlText.PROBE_SPACE);
        PreparedStatement delete = writer.prepareStatement(SqlText.END_PROBE)) {
      insert.setLong(1, at.toEpochMilli());
      insert.setString(2, PROBE_PADDING);
      insert.executeUpdate();
      delete.executeUpdate();
    }
  }

  private IngestOutcome writeEvent(
      NewEvent e,
      PreparedStatement claimKey,
      PreparedStatement findKey,
      PreparedStatement insertEvent,
      PreparedStatement insertDelivery)
      throws SQLException {
    Instant now = e.receivedAt();
    EventId id = EventId.generate(now);
    if (e.idempotencyKey() != null) {
      claimKey.setString(1, e.source());
      claimKey.setString(2, e.idempotencyKey());
      claimKey.setString(3, id.value());
      claimKey.setLong(4, e.keyExpiresAt().toEpochMilli());
      claimKey.setLong(5, now.toEpochMilli());
      if (claimKey.executeUpdate() == 0) {
        findKey.setString(1, e.source());
        findKey.setString(2, e.idempotencyKey());
        try (ResultSet rs = findKey.executeQuery()) {
          rs.next();
          return new IngestOutcome.Duplicate(new EventId(rs.getString(1)));
        }
      }
    }
    insertEvent.setString(1, id.value());
    insertEvent.setString(2, e.source());
    insertEvent.setString(3, e.idempotencyKey());
    insertEvent.setLong(4, e.eventTime().toEpochMilli());
    insertEvent.setString(5, e.partitionKey());
    insertEvent.setLong(6, now.toEpochMilli());
    insertEvent.setString(7, e.payload());
    insertEvent.setString(8, toJson(e.headers()));
    insertEvent.setString(9, e.status().dbValue());
    insertEvent.setString(10, e.quarantineReason());
    insertEvent.executeUpdate();
    for (NewEvent.RouteTarget target : e.routes()) {
      insertDelivery.setString(1, DeliveryId.generate(now).value());
      insertDelivery.setString(2, id.value());
      insertDelivery.setString(3, target.route());
      insertDelivery.setString(4, target.destination());
      insertDelivery.setString(5, DeliveryState.PENDING.dbValue());
      insertDelivery.setString(6, e.partitionKey());
      insertDelivery.setLong(7, e.eventTime().toEpochMilli());
      insertDelivery.setLong(8, now.toEpochMilli());
      insertDelivery.setLong(9, now.toEpochMilli());
      insertDelivery.setLong(10, now.toEpochMilli());
      insertDelivery.addBatch();
    }
    return new IngestOutcome.Accepted(id);
  }

  /**
   * Rolls back a failed batch. SQLite may already have rolled the transaction back itself (it does
   * on a full disk), leaving the driver outside a transaction; reopening one keeps the writer
   * usable for the next batch.
   */
  private void rollbackQuietly() {
    try {
      writer.rollback();
    } catch (SQLException alreadyRolledBack) {
      try (var s = writer.createStatement()) {
        s.execute("BEGIN");
      } catch (SQLException e) {
        LOG.warn("store writer could not reopen a transaction: {}", e.getMessage());
      }
    }
  }

  @Override
  public Optional<Event> findEvent(EventId id) {
    return read(
        () -> {
          try (PreparedStatement ps =
              reader.prepareStatement(SqlText.SELECT_EVENT + " WHERE id = ?")) {
            ps.setString(1, id.value());
            List<Event> events = mapEvents(ps);
            return events.stream().findFirst();
          }
        });
  }

  @Override
  public List<Event> findEvents(String source, EventStatus status, int limit) {
    return read(
        () -> {
          String sql =
              SqlText.SELECT_EVENT
                  + " WHERE (? IS NULL OR source = ?) AND (? IS NULL OR status = ?)"
                  + " ORDER BY received_at DESC, id DESC LIMIT ?";
          try (PreparedStatement ps = reader.prepareStatement(sql)) {
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
  public long countEvents() {
    return read(() -> queryLong(reader, "SELECT COUNT(*) FROM events"));
  }

  @Override
  public long countUnfinishedDeliveries() {
    return unfinishedDeliveries.get();
  }

  private long queryCountUnfinished() throws SQLException {
    return queryLong(
        reader,
        "SELECT COUNT(*) FROM deliveries WHERE state NOT IN ('delivered','dead','skipped')");
  }

  @Override
  public int purgeExpiredKeys(Instant now) {
    return (Integer) await(groupCommit.submit(new PurgeKeys(now)));
  }

  @Override
  public boolean isWritable() {
    if (lastWriteOk) {
      return true;
    }
    try {
      groupCommit.submit(new Heartbeat(clock.instant())).get(1, TimeUnit.SECONDS);
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
    return groupCommit.waiting();
  }

  @Override
  public void close() {
    groupCommit.close();
    closeQuietly(writer);
    closeQuietly(reader);
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // closing on the way out; nothing left to protect
    }
  }

  private List<Event> mapEvents(PreparedStatement ps) throws SQLException {
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
                rs.getString("quarantine_reason")));
      }
    }
    return events;
  }

  private interface SqlRead<T> {
    T run() throws SQLException;
  }

  private <T> T read(SqlRead<T> body) {
    synchronized (reader) {
      try {
        return body.run();
      } catch (SQLException e) {
        throw new StoreUnavailableException("store read failed: " + e.getMessage(), e);
      }
    }
  }

  private static long queryLong(Connection c, String sql) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new StoreUnavailableException("store write failed: " + e.getCause().getMessage(), e);
    } catch (TimeoutException e) {
      throw new StoreUnavailableException("store write timed out", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("interrupted", e);
    }
  }

  private static String toJson(Map<String, String> headers) {
    try {
      return JSON.writeValueAsString(headers);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Map<String, String> fromJson(String text) {
    try {
      return JSON.readValue(text, new TypeReference<>() {});
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("unreadable headers column", e);
    }
  }
}
