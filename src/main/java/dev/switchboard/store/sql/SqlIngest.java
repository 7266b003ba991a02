package dev.switchboard.store.sql;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import dev.switchboard.store.QueuedDelivery;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Ingest's writes, for {@link SqlEventStore}: an event's idempotency key, the event and its
 * deliveries, in the writer's batch. Where the dialect claims keys together ({@link
 * Dialect#claimKeys}), neighbouring ingests of a batch are written with a few statements for all;
 * otherwise one by one. Its deliveries in pending are handed to the queue once the batch commits.
 */
final class SqlIngest {
  /** The pending deliveries a batch created, handed to the dispatcher in one piece. */
  private static final Object HANDOFF = new Object();

  private static final Object NOTIFY_WORK = new Object();

  private final Dialect dialect;
  private final SqlDeliveryQueue deliveries;

  /** Writes neighbouring ingests together; null where each is written on its own (SQLite). */
  private final SqlWriter.Group group;

  /**
   * Arrival numbering of deliveries; only the writer thread touches it. On a shared database it
   * also follows the receive time (see {@link #nextSeq}).
   */
  private long nextSeq;

  SqlIngest(Dialect dialect, SqlDeliveryQueue deliveries, long firstSeq) {
    this.dialect = dialect;
    this.deliveries = deliveries;
    this.nextSeq = firstSeq;
    this.group = dialect.claimKeys() == null ? null : this::writeEvents;
  }

  /** The writer op that ingests {@code event}. */
  SqlWriter.WriteOp op(NewEvent event) {
    return event.idempotencyKey() == null
        ? new IngestOp(this, event)
        : new KeyedIngestOp(this, event);
  }

  /**
   * An ingest op. Where the dialect claims keys together ({@link Dialect#claimKeys}), neighbouring
   * ingests of a batch are written together ({@link #writeEvents}); otherwise one by one.
   */
  private interface Ingest extends SqlWriter.GroupedOp {
    NewEvent event();

    @Override
    default long bytes() {
      return event().heldBytes();
    }
  }

  private record IngestOp(SqlIngest ingest, NewEvent event) implements Ingest {
    @Override
    public Object apply(SqlWriter.Context ctx) throws SQLException {
      return ingest.writeEvent(event, ctx);
    }

    @Override
    public SqlWriter.Group group() {
      return ingest.group;
    }
  }

  /**
   * An ingest that claims an idempotency key: on a shared database, batches claim keys in order.
   */
  private record KeyedIngestOp(SqlIngest ingest, NewEvent event)
      implements Ingest, SqlWriter.KeyedOp {
    @Override
    public Object apply(SqlWriter.Context ctx) throws SQLException {
      return ingest.writeEvent(event, ctx);
    }

    @Override
    public SqlWriter.Group group() {
      return ingest.group;
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

  /**
   * The deliveries of an event just stored or released, created at {@code e.receivedAt()}; {@code
   * eventReceivedAt} is when the event itself arrived (earlier for a released one), what the
   * dispatcher sees as the delivery's receive time, as it does when it reads the row.
   */
  IngestOutcome addDeliveries(
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
      Instant due = dueAt(target, eventReceivedAt, now);
      insertDelivery.setString(1, deliveryId.value());
      insertDelivery.setString(2, id.value());
      insertDelivery.setString(3, target.route());
      insertDelivery.setString(4, target.destination());
      insertDelivery.setString(5, target.state().dbValue());
      insertDelivery.setString(6, e.partitionKey());
      insertDelivery.setLong(7, e.eventTime().toEpochMilli());
      insertDelivery.setLong(8, due.toEpochMilli());
      insertDelivery.setLong(9, now.toEpochMilli());
      insertDelivery.setLong(10, now.toEpochMilli());
      insertDelivery.setLong(11, seq);
      insertDelivery.setString(12, target.reason());
      insertDelivery.setString(13, target.state() == DeliveryState.DEAD ? "filter" : null);
      insertDelivery.addBatch();
      if (due.isAfter(now)) {
        // not due yet: the dispatcher finds it when it comes due (and other nodes poll for it);
        // handing it over now would only fill memory with what cannot go
        continue;
      }
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

  /**
   * When a new delivery becomes due: at once, or its route's hold after the event's receipt, but
   * never before it is created (a quarantined event released late goes at once).
   */
  private static Instant dueAt(NewEvent.RouteTarget target, Instant eventReceivedAt, Instant now) {
    if (!target.scheduled()) {
      return now;
    }
    Instant due = eventReceivedAt.plus(target.hold());
    return due.isAfter(now) ? due : now;
  }

  private static String toJson(Map<String, String> headers) {
    try {
      return SqlEventStore.JSON.writeValueAsString(headers);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
