package dev.switchboard.store.sql;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.EventPage;
import dev.switchboard.store.EventQuery;
import dev.switchboard.store.EventStore;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import dev.switchboard.store.Purged;
import dev.switchboard.store.QueuedDelivery;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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

  /** The pending deliveries a batch created, handed to the dispatcher in one piece. */
  private static final Object HANDOFF = new Object();

  private static final Object NOTIFY_WORK = new Object();

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

  /** Writes neighbouring ingests together; null where each is written on its own (SQLite). */
  private final SqlWriter.Group ingestGroup;

  /**
   * Arrival numbering of deliveries; only the writer thread touches it after open. On a shared
   * database it also follows the receive time (see {@link #nextSeq}).
   */
  private long nextSeq;

  private SqlEventStore(Dialect dialect, Clock clock, IntConsumer batchSizeObserver)
      throws SQLException {
    this.dialect = dialect;
    this.clock = clock;
    this.readers = new SqlReaders(dialect, dialect.readers());
    unfinishedDeliveries.set(readers.read(c -> countByDestination(c, COUNT_UNFINISHED)));
    nextSeq = readers.read(c -> queryLong(c, "SELECT COALESCE(MAX(seq), 0) FROM deliveries")) + 1;
    this.ingestGroup = dialect.claimKeys() == null ? null : this::writeEvents;
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
  }

  private static final String COUNT_UNFINISHED =
      "SELECT destination, COUNT(*) FROM deliveries"
          + " WHERE state IN ('pending','in_flight','retry_scheduled') GROUP BY destination";

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
          + " AND state IN ('pending', 'in_flight', 'retry_scheduled') GROUP BY destination";

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
    SqlWriter.WriteOp op =
        event.idempotencyKey() == null ? new IngestOp(this, event) : new KeyedIngestOp(this, event);
    return writer.submit(op).thenApply(IngestOutcome.class::cast);
  }

  /**
   * An ingest op. Where the dialect claims keys together ({@link Dialect#claimKeys}), neighbouring
   * ingests of a batch are written together ({@link #writeEvents}); otherwise one by one.
   */
  private interface Ingest extends SqlWriter.GroupedOp {
    NewEvent event();
  }

  private record IngestOp(SqlEventStore store, NewEvent event) implements Ingest {
    @Override
    public Object apply(SqlWriter.Context ctx) throws SQLException {
      return store.writeEvent(event, ctx);
    }

    @Override
    public SqlWriter.Group group() {
      return store.ingestGroup;
    }
  }

  /**
   * An ingest that claims an idempotency key: on a shared database, batches claim keys in order.
   */
  private record KeyedIngestOp(SqlEventStore store, NewEvent event)
      implements Ingest, SqlWriter.KeyedOp {
    @Override
    public Object apply(SqlWriter.Context ctx) throws SQLException {
      return store.writeEvent(event, ctx);
    }

    @Override
    public SqlWriter.Group group() {
      return store.ingestGroup;
    }

    @Override
    public String lockKey() {
      return event.source() + '\n' + event.idempotencyKey();
    }
  }

  /**
   * The next arrival number. On SQLite the one writer counts up from the largest stored number. On
   * a shared database every node numbers its own deliveries, so numbers follow the receive time
   * (milliseconds × 1000, counting up within a millisecond): arrival order across nodes is then the
   * receive order, to the nodes' clock difference.
   */
  private long nextSeq(Instant receivedAt) {
    if (!dialect.soleWriter()) {
      nextSeq = Math.max(nextSeq, receivedAt.toEpochMilli() * 1000);
    }
    return nextSeq++;
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

  private IngestOutcome writeEvent(NewEvent e, SqlWriter.Context ctx) throws SQLException {
    Instant now = e.receivedAt();
    EventId id = EventId.generate(now);
    if (e.idempotencyKey() != null) {
      PreparedStatement claimKey = ctx.statement(SqlText.CLAIM_KEY);
      claimKey.setString(1, e.source());
      claimKey.setString(2, e.idempotencyKey());
      claimKey.setString(3, id.value());
      claimKey.setLong(4, e.keyExpiresAt().toEpochMilli());
      claimKey.setLong(5, now.toEpochMilli());
      if (claimKey.executeUpdate() == 0) {
        PreparedStatement findKey = ctx.statement(SqlText.FIND_KEY);
        findKey.setString(1, e.source());
        findKey.setString(2, e.idempotencyKey());
        try (ResultSet rs = findKey.executeQuery()) {
          if (!rs.next()) {
            // purged between the claim and this read (another node's retention): fail the batch,
            // the sender's retry claims the key anew
            throw new SQLException("idempotency key vanished while it was read");
          }
          return new IngestOutcome.Duplicate(new EventId(rs.getString(1)));
        }
      }
    }
    PreparedStatement insertEvent = ctx.statement(SqlText.INSERT_EVENT);
    bindEvent(insertEvent, id, e);
    insertEvent.executeUpdate();
    return addDeliveries(e, id, e.receivedAt(), ctx);
  }

  /**
   * Writes a run of ingests with few round trips (where {@link Dialect#claimKeys} is set): the keys
   * of each chunk are claimed by one statement, in the order given (the writer's key order), the
   * duplicates' event ids read by one more, the new events inserted by one batch and their
   * deliveries by another. A chunk ends before a key already in it, so a key sent twice in one
   * batch is claimed, then found live by its second claim, as one by one.
   */
  private List<Object> writeEvents(List<SqlWriter.WriteOp> ops, SqlWriter.Context ctx)
      throws SQLException {
    List<NewEvent> events = new ArrayList<>(ops.size());
    for (SqlWriter.WriteOp op : ops) {
      events.add(((Ingest) op).event());
    }
    List<Object> results = new ArrayList<>(events.size());
    int start = 0;
    while (start < events.size()) {
      Set<List<String>> keys = new HashSet<>();
      int end = start;
      while (end < events.size()) {
        NewEvent e = events.get(end);
        if (e.idempotencyKey() != null && !keys.add(List.of(e.source(), e.idempotencyKey()))) {
          break;
        }
        end++;
      }
      results.addAll(writeChunk(events.subList(start, end), ctx));
      start = end;
    }
    return results;
  }

  /** Writes ingests whose keys are distinct (see {@link #writeEvents}). */
  private List<IngestOutcome> writeChunk(List<NewEvent> events, SqlWriter.Context ctx)
      throws SQLException {
    int n = events.size();
    EventId[] ids = new EventId[n];
    EventId[] duplicateOf = new EventId[n];
    List<Integer> keyed = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids[i] = EventId.generate(events.get(i).receivedAt());
      if (events.get(i).idempotencyKey() != null) {
        keyed.add(i);
      }
    }
    if (!keyed.isEmpty()) {
      int k = keyed.size();
      String[] sources = new String[k];
      String[] keys = new String[k];
      String[] eventIds = new String[k];
      Long[] expiries = new Long[k];
      Long[] nows = new Long[k];
      for (int j = 0; j < k; j++) {
        NewEvent e = events.get(keyed.get(j));
        sources[j] = e.source();
        keys[j] = e.idempotencyKey();
        eventIds[j] = ids[keyed.get(j)].value();
        expiries[j] = e.keyExpiresAt().toEpochMilli();
        nows[j] = e.receivedAt().toEpochMilli();
      }
      PreparedStatement claim = ctx.statement(dialect.claimKeys());
      Connection c = claim.getConnection();
      claim.setArray(1, c.createArrayOf("text", sources));
      claim.setArray(2, c.createArrayOf("text", keys));
      claim.setArray(3, c.createArrayOf("text", eventIds));
      claim.setArray(4, c.createArrayOf("bigint", expiries));
      claim.setArray(5, c.createArrayOf("bigint", nows));
      Set<List<String>> claimed = new HashSet<>();
      try (ResultSet rs = claim.executeQuery()) {
        while (rs.next()) {
          claimed.add(List.of(rs.getString(1), rs.getString(2)));
        }
      }
      if (claimed.size() < k) {
        List<String> liveSources = new ArrayList<>();
        List<String> liveKeys = new ArrayList<>();
        for (int j = 0; j < k; j++) {
          if (!claimed.contains(List.of(sources[j], keys[j]))) {
            liveSources.add(sources[j]);
            liveKeys.add(keys[j]);
          }
        }
        PreparedStatement find = ctx.statement(dialect.findKeys());
        find.setArray(1, c.createArrayOf("text", liveSources.toArray()));
        find.setArray(2, c.createArrayOf("text", liveKeys.toArray()));
        Map<List<String>, String> found = new HashMap<>();
        try (ResultSet rs = find.executeQuery()) {
          while (rs.next()) {
            found.put(List.of(rs.getString(1), rs.getString(2)), rs.getString(3));
          }
        }
        for (int i : keyed) {
          NewEvent e = events.get(i);
          List<String> key = List.of(e.source(), e.idempotencyKey());
          if (claimed.contains(key)) {
            continue;
          }
          String existing = found.get(key);
          if (existing == null) {
            // purged between the claim and this read (another node's retention): fail the batch,
            // the sender's retry claims the key anew
            throw new SQLException("idempotency key vanished while it was read");
          }
          duplicateOf[i] = new EventId(existing);
        }
      }
    }
    PreparedStatement insertEvent = ctx.statement(SqlText.INSERT_EVENT);
    boolean anyNew = false;
    for (int i = 0; i < n; i++) {
      if (duplicateOf[i] == null) {
        bindEvent(insertEvent, ids[i], events.get(i));
        insertEvent.addBatch();
        anyNew = true;
      }
    }
    if (anyNew) {
      // the events go in before their deliveries (which reference them) are added
      insertEvent.executeBatch();
    }
    List<IngestOutcome> outcomes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      outcomes.add(
          duplicateOf[i] != null
              ? new IngestOutcome.Duplicate(duplicateOf[i])
              : addDeliveries(events.get(i), ids[i], events.get(i).receivedAt(), ctx));
    }
    return outcomes;
  }

  private static void bindEvent(PreparedStatement insertEvent, EventId id, NewEvent e)
      throws SQLException {
    Instant now = e.receivedAt();
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
  }

  /** Adds the deliveries of the new event {@code id} to the batch; its outcome. */
  /**
   * The deliveries of an event just stored or released, created at {@code e.receivedAt()}; {@code
   * eventReceivedAt} is when the event itself arrived (earlier for a released one), what the
   * dispatcher sees as the delivery's receive time, as it does when it reads the row.
   */
  private IngestOutcome addDeliveries(
      NewEvent e, EventId id, Instant eventReceivedAt, SqlWriter.Context ctx) throws SQLException {
    Instant now = e.receivedAt();
    if (e.routes().isEmpty()) {
      return new IngestOutcome.Accepted(id);
    }
    PreparedStatement insertDelivery = ctx.batch(SqlText.INSERT_DELIVERY);
    List<QueuedDelivery> queued = ctx.collectAfterCommit(HANDOFF, deliveries::committed);
    for (NewEvent.RouteTarget target : e.routes()) {
      DeliveryId deliveryId = DeliveryId.generate(now);
      long seq = nextSeq(now);
      insertDelivery.setString(1, deliveryId.value());
      insertDelivery.setString(2, id.value());
      insertDelivery.setString(3, target.route());
      insertDelivery.setString(4, target.destination());
      insertDelivery.setString(5, target.state().dbValue());
      insertDelivery.setString(6, e.partitionKey());
      insertDelivery.setLong(7, e.eventTime().toEpochMilli());
      insertDelivery.setLong(8, now.toEpochMilli());
      insertDelivery.setLong(9, now.toEpochMilli());
      insertDelivery.setLong(10, now.toEpochMilli());
      insertDelivery.setLong(11, seq);
      insertDelivery.setString(12, target.reason());
      insertDelivery.setString(13, target.state() == DeliveryState.DEAD ? "filter" : null);
      insertDelivery.addBatch();
      if (target.state() == DeliveryState.PENDING) {
        if (!dialect.soleWriter()) {
          // cluster mode: one NOTIFY per batch wakes the other nodes when it commits
          ctx.<String>collectBeforeCommit(NOTIFY_WORK, dialect::notifyWork)
              .add(target.destination());
        }
        queued.add(
            new QueuedDelivery(
                deliveryId,
                id,
                e.source(),
                target.route(),
                target.destination(),
                e.partitionKey(),
                e.eventTime(),
                eventReceivedAt,
                seq,
                DeliveryState.PENDING,
                0,
                null,
                now,
                e.payload(),
                e.headers()));
      }
    }
    return new IngestOutcome.Accepted(id);
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
    return (Boolean) await(writer.submit(new ReleaseOp(this, release)));
  }

  /**
   * A release locks its event's row: keyed by the event, so that on a shared database two nodes'
   * batches releasing the same events take their locks in one order and wait rather than deadlock.
   */
  private record ReleaseOp(SqlEventStore store, dev.switchboard.store.QuarantineRelease release)
      implements SqlWriter.KeyedOp {
    @Override
    public Object apply(SqlWriter.Context ctx) throws SQLException {
      return store.writeRelease(release, ctx);
    }

    @Override
    public String lockKey() {
      return "release\n" + release.event().value();
    }
  }

  /**
   * One release (see {@link EventStore#release}): the state check is the {@code UPDATE}'s own
   * condition, so a second release of the same event, here or on another node (whose update waits
   * for this row's lock, then finds it accepted), changes nothing and creates no delivery.
   */
  private boolean writeRelease(dev.switchboard.store.QuarantineRelease r, SqlWriter.Context ctx)
      throws SQLException {
    if (!r.passes()) {
      PreparedStatement keep = ctx.statement(SqlText.KEEP_QUARANTINED);
      keep.setString(1, r.reason());
      keep.setString(2, r.event().value());
      return keep.executeUpdate() == 1;
    }
    PreparedStatement accept = ctx.statement(SqlText.RELEASE_EVENT);
    accept.setString(1, r.by());
    accept.setLong(2, r.at().toEpochMilli());
    if (r.payload() == null) {
      accept.setNull(3, java.sql.Types.VARCHAR);
    } else {
      accept.setString(3, r.payload());
    }
    accept.setString(4, r.event().value());
    if (accept.executeUpdate() == 0) {
      return false;
    }
    PreparedStatement read = ctx.statement(SqlText.SELECT_EVENT + " WHERE id = ?");
    read.setString(1, r.event().value());
    Event e = mapEvents(read).get(0);
    // its deliveries as at ingest, created now (their arrival order is the release's); per-key
    // ordering still goes by the event's own event time, as for any late arrival
    addDeliveries(
        new NewEvent(
            e.source(),
            null,
            null,
            e.eventTime(),
            e.partitionKey(),
            r.at(),
            e.payload(),
            e.headers(),
            EventStatus.ACCEPTED,
            null,
            r.routes()),
        e.id(),
        e.receivedAt(),
        ctx);
    return true;
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

  private static String toJson(Map<String, String> headers) {
    try {
      return JSON.writeValueAsString(headers);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
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
