package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.Finish;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import dev.switchboard.store.QueuedDelivery;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The queue's contract on a real SQLite file: hand-off, claims, fencing, reaping, scans. */
class SqlDeliveryQueueTest {
  @TempDir Path dir;
  final Instant now = Instant.parse("2026-10-27T14:30:00Z");

  NewEvent event(String key, Instant eventTime, List<NewEvent.RouteTarget> routes) {
    return new NewEvent(
        "src",
        key,
        now.plus(Duration.ofHours(48)),
        eventTime,
        "p",
        now,
        "{\"k\":\"" + key + "\"}",
        Map.of(),
        EventStatus.ACCEPTED,
        null,
        routes);
  }

  SqlEventStore open(String name) throws Exception {
    return SqlEventStore.open(new SqliteDialect(dir.resolve(name)), Clock.systemUTC(), n -> {});
  }

  static AttemptRecord attempt(int status) {
    return new AttemptRecord(1, Instant.EPOCH, Duration.ofMillis(3), status, "x", null, null);
  }

  @Test
  void committedPendingDeliveriesAreHandedOverAndFinalOnesAreNot() throws Exception {
    List<QueuedDelivery> handed = new CopyOnWriteArrayList<>();
    try (SqlEventStore store = open("a.db")) {
      store.deliveries().onCommitted(handed::addAll);
      store
          .ingest(
              event(
                  "k",
                  now,
                  List.of(
                      new NewEvent.RouteTarget("r1", "d"),
                      new NewEvent.RouteTarget("r2", "d", DeliveryState.SKIPPED, "filtered"))))
          .get();
      assertThat(handed)
          .singleElement()
          .satisfies(
              d -> {
                assertThat(d.route()).isEqualTo("r1");
                assertThat(d.payload()).isEqualTo("{\"k\":\"k\"}");
                assertThat(d.state()).isEqualTo(DeliveryState.PENDING);
              });
      assertThat(store.countUnfinishedDeliveries()).isEqualTo(1);
      assertThat(store.deliveries().countByState("d"))
          .containsEntry(DeliveryState.PENDING, 1L)
          .containsEntry(DeliveryState.SKIPPED, 1L);
    }
  }

  @Test
  void aWriteWithAStaleTokenChangesNothing() throws Exception {
    List<QueuedDelivery> handed = new CopyOnWriteArrayList<>();
    try (SqlEventStore store = open("b.db")) {
      SqlDeliveryQueue q = store.deliveries();
      q.onCommitted(handed::addAll);
      store.ingest(event("k", now, List.of(new NewEvent.RouteTarget("r", "d")))).get();
      DeliveryId id = handed.get(0).id();
      assertThat(q.claim(id, "A", now, now.plusSeconds(60)).get()).isTrue();
      assertThat(q.claim(id, "B", now, now.plusSeconds(60)).get()).as("already held").isFalse();
      assertThat(q.reapExpired(now.plusSeconds(30))).isZero();
      assertThat(q.reapExpired(now.plusSeconds(61))).isEqualTo(1);
      assertThat(q.claim(id, "B", now, now.plusSeconds(60)).get()).isTrue();
      // A's lease was reaped and B claimed it again: A's outcome must not land
      assertThat(q.finish(new Finish.Delivered(id, "A", attempt(200), null), now).get()).isFalse();
      assertThat(q.renew(Map.of(id, "A"), now.plusSeconds(600)).get()).isZero();
      assertThat(q.findDelivery(id).orElseThrow().state()).isEqualTo(DeliveryState.IN_FLIGHT);
      assertThat(q.attemptsOf(id)).isEmpty();
      assertThat(q.renew(Map.of(id, "B"), now.plusSeconds(600)).get()).isEqualTo(1);
      assertThat(q.finish(new Finish.Delivered(id, "B", attempt(200), null), now).get()).isTrue();
      assertThat(q.findDelivery(id).orElseThrow().state()).isEqualTo(DeliveryState.DELIVERED);
      assertThat(q.attemptsOf(id))
          .singleElement()
          .satisfies(a -> assertThat(a.status()).isEqualTo(200));
      assertThat(store.countUnfinishedDeliveries()).isZero();
    }
  }

  @Test
  void reapAllReturnsEveryLeaseOfAPreviousRun() throws Exception {
    List<QueuedDelivery> handed = new CopyOnWriteArrayList<>();
    try (SqlEventStore store = open("c.db")) {
      store.deliveries().onCommitted(handed::addAll);
      for (int i = 0; i < 3; i++) {
        store.ingest(event("k" + i, now, List.of(new NewEvent.RouteTarget("r", "d")))).get();
      }
      for (QueuedDelivery d : handed) {
        store.deliveries().claim(d.id(), "old", now, now.plusSeconds(3600)).get();
      }
    }
    try (SqlEventStore store = open("c.db")) {
      assertThat(store.deliveries().reapAll()).isEqualTo(3);
      assertThat(store.deliveries().countByState(null)).containsEntry(DeliveryState.PENDING, 3L);
      assertThat(store.countUnfinishedDeliveries()).isEqualTo(3);
    }
  }

  @Test
  void scansFollowArrivalOrderFromACursorAndOnlyWhatIsDue() throws Exception {
    List<QueuedDelivery> handed = new CopyOnWriteArrayList<>();
    try (SqlEventStore store = open("d.db")) {
      SqlDeliveryQueue q = store.deliveries();
      q.onCommitted(handed::addAll);
      for (int i = 0; i < 5; i++) {
        store.ingest(event("k" + i, now, List.of(new NewEvent.RouteTarget("r", "d")))).get();
      }
      List<QueuedDelivery> first = q.scan("d", DeliveryState.PENDING, now, null, Long.MIN_VALUE, 3);
      assertThat(first)
          .extracting(QueuedDelivery::id)
          .containsExactlyElementsOf(
              handed.subList(0, 3).stream().map(QueuedDelivery::id).toList());
      QueuedDelivery last = first.get(2);
      assertThat(q.scan("d", DeliveryState.PENDING, now, last.nextAttemptAt(), last.seq(), 10))
          .extracting(QueuedDelivery::id)
          .containsExactlyElementsOf(
              handed.subList(3, 5).stream().map(QueuedDelivery::id).toList());
      assertThat(q.scan("d", DeliveryState.PENDING, now.minusSeconds(1), null, Long.MIN_VALUE, 10))
          .as("not due yet")
          .isEmpty();
      DeliveryId retried = handed.get(0).id();
      q.claim(retried, "t", now, now.plusSeconds(60)).get();
      q.finish(new Finish.Retry(retried, "t", attempt(503), now.plusSeconds(10), "http_5xx"), now)
          .get();
      assertThat(
              q.scan(
                  "d", DeliveryState.RETRY_SCHEDULED, now.plusSeconds(9), null, Long.MIN_VALUE, 10))
          .isEmpty();
      assertThat(
              q.scan(
                  "d",
                  DeliveryState.RETRY_SCHEDULED,
                  now.plusSeconds(10),
                  null,
                  Long.MIN_VALUE,
                  10))
          .singleElement()
          .satisfies(d -> assertThat(d.attempts()).isEqualTo(1));
      assertThat(q.claim(retried, "t2", now.plusSeconds(9), now.plusSeconds(60)).get())
          .as("a retry is not claimable before it is due")
          .isFalse();
      assertThat(q.claim(retried, "t2", now.plusSeconds(10), now.plusSeconds(60)).get()).isTrue();
    }
  }

  @Test
  void earlierUnfinishedFindsTheKeysHeadInEventTimeOrder() throws Exception {
    List<QueuedDelivery> handed = new CopyOnWriteArrayList<>();
    try (SqlEventStore store = open("e.db")) {
      SqlDeliveryQueue q = store.deliveries();
      q.onCommitted(handed::addAll);
      NewEvent.RouteTarget r = new NewEvent.RouteTarget("r", "d");
      assertThat(store.ingest(event("late", now.plusSeconds(20), List.of(r))).get())
          .isInstanceOf(IngestOutcome.Accepted.class);
      store.ingest(event("early", now.plusSeconds(10), List.of(r))).get();
      QueuedDelivery late = handed.get(0);
      QueuedDelivery early = handed.get(1);
      assertThat(q.earlierUnfinished(late, false)).map(QueuedDelivery::id).contains(early.id());
      assertThat(q.earlierUnfinished(early, false)).isEmpty();
      q.claim(early.id(), "t", now, now.plusSeconds(60)).get();
      q.finish(new Finish.Dead(early.id(), "t", attempt(400), "http 400", "http_4xx"), now).get();
      assertThat(q.earlierUnfinished(late, false)).as("on_dead: continue").isEmpty();
      assertThat(q.earlierUnfinished(late, true)).as("on_dead: block").isPresent();
    }
  }
}
