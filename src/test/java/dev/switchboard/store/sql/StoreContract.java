package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryFilter;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.store.EventPage;
import dev.switchboard.store.EventQuery;
import dev.switchboard.store.EventSummary;
import dev.switchboard.store.Finish;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import dev.switchboard.store.QuarantineRelease;
import dev.switchboard.store.QueuedDelivery;
import dev.switchboard.store.StoreUnavailableException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The store's contract ({@link dev.switchboard.store.EventStore} and {@link
 * dev.switchboard.store.DeliveryQueue}), run against every database the store supports: each
 * subclass only says how to open a store on a fresh, empty database (model: db-scheduler's {@code
 * compatibility/CompatibilityTest}). Database-specific behaviour (SQLite's size cap and start-up
 * reaping; PostgreSQL's races between nodes) is tested beside it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
abstract class StoreContract {
  static final Instant NOW = Instant.parse("2026-10-27T14:30:00Z");
  static final NewEvent.RouteTarget ROUTE = new NewEvent.RouteTarget("r", "d");

  SqlEventStore store;
  SqlDeliveryQueue queue;
  final List<QueuedDelivery> handed = new CopyOnWriteArrayList<>();
  final List<Integer> batches = new CopyOnWriteArrayList<>();

  /** A store on a fresh, empty database; {@code batchSizes} sees every committed batch's size. */
  abstract SqlEventStore open(java.util.function.IntConsumer batchSizes) throws Exception;

  @BeforeEach
  void openStore() throws Exception {
    store = open(batches::add);
    queue = store.deliveries();
    queue.onCommitted(handed::addAll);
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  static NewEvent event(
      String key, Instant receivedAt, Instant eventTime, List<NewEvent.RouteTarget> routes) {
    return new NewEvent(
        "src",
        key,
        receivedAt.plus(Duration.ofHours(48)),
        eventTime,
        "p",
        receivedAt,
        "{\"k\":\"" + key + "\"}",
        Map.of("x-test", "1"),
        EventStatus.ACCEPTED,
        null,
        routes);
  }

  static NewEvent event(String key) {
    return event(key, NOW, NOW, List.of(ROUTE));
  }

  static AttemptRecord attempt(int status) {
    return new AttemptRecord(1, NOW, Duration.ofMillis(3), status, "x", null, null);
  }

  IngestOutcome ingest(NewEvent e) throws Exception {
    return store.ingest(e).get(30, TimeUnit.SECONDS);
  }

  /** Ingests one event with one pending delivery and claims it with {@code token}. */
  QueuedDelivery claimed(String key, String token) throws Exception {
    int before = handed.size();
    ingest(event(key));
    QueuedDelivery d = handed.get(before);
    assertThat(queue.claim(d.id(), token, NOW, NOW.plusSeconds(60)).get()).isTrue();
    return d;
  }

  /** Holds the writer of {@link #store} until the returned latch is released. */
  CountDownLatch holdWriter() throws Exception {
    return hold(store.writer());
  }

  /** Holds {@code writer} until the returned latch is released. */
  static CountDownLatch hold(SqlWriter writer) throws Exception {
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    writer.submit(
        ctx -> {
          held.countDown();
          try {
            release.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return null;
        });
    assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
    return release;
  }

  // --- the table of moves ---

  static final Instant LONG_AGO = NOW.minusSeconds(3600);

  /**
   * One delivery in each state, each of its own event received {@link #LONG_AGO}, all under the
   * lease token "t" (so that a fenced write finds the token everywhere and only the state decides):
   * the in-flight one's lease has run out, the retry is due, the pending one was never attempted.
   */
  Map<DeliveryState, DeliveryId> oneInEachState(String prefix) throws Exception {
    Map<DeliveryState, DeliveryId> rows = new java.util.EnumMap<>(DeliveryState.class);
    for (DeliveryState state : DeliveryState.values()) {
      EventId event =
          ingest(event(prefix + "-" + state.dbValue(), LONG_AGO, LONG_AGO, List.of(ROUTE)))
              .eventId();
      DeliveryId id = queue.deliveriesOf(event).get(0).id();
      boolean attempted = state != DeliveryState.PENDING;
      store
          .writer()
          .submit(
              ctx -> {
                var ps =
                    ctx.statement(
                        "UPDATE deliveries SET state = ?, lease_token = 't', lease_expires_at = ?,"
                            + " next_attempt_at = ?, first_attempt_at = ?, updated_at = ?"
                            + " WHERE id = ?");
                ps.setString(1, state.dbValue());
                ps.setLong(2, NOW.minusSeconds(1).toEpochMilli());
                ps.setLong(3, NOW.minusSeconds(10).toEpochMilli());
                if (attempted) {
                  ps.setLong(4, LONG_AGO.toEpochMilli());
                } else {
                  ps.setNull(4, java.sql.Types.BIGINT);
                }
                ps.setLong(5, LONG_AGO.toEpochMilli());
                ps.setString(6, id.value());
                return ps.executeUpdate();
              })
          .get(30, TimeUnit.SECONDS);
      rows.put(state, id);
    }
    return rows;
  }

  /** Every stored delivery's state. */
  Map<DeliveryId, DeliveryState> states() {
    DeliveryFilter all =
        new DeliveryFilter(
            List.of(), null, null, java.util.EnumSet.allOf(DeliveryState.class), null, null, null);
    Map<DeliveryId, DeliveryState> states = new HashMap<>();
    for (DeliveryRecord d : queue.findDeliveries(all, null, 10_000)) {
      states.put(d.id(), d.state());
    }
    return states;
  }

  /** A queue operation, run on one delivery in each state. */
  interface Operation {
    void run(Map<DeliveryState, DeliveryId> rows) throws Exception;
  }

  /**
   * Runs {@code operation} on one delivery in each state and returns the moves it made, (before,
   * after) of each delivery that changed; fails on any move the table of moves does not allow, and
   * on a delivery that vanished.
   */
  Set<List<DeliveryState>> movesOf(String name, Operation operation) throws Exception {
    Map<DeliveryState, DeliveryId> rows = oneInEachState(name);
    Map<DeliveryId, DeliveryState> before = states();
    operation.run(rows);
    Map<DeliveryId, DeliveryState> after = states();
    Set<List<DeliveryState>> moves = new java.util.HashSet<>();
    for (Map.Entry<DeliveryId, DeliveryState> row : before.entrySet()) {
      DeliveryState from = row.getValue();
      DeliveryState to = after.get(row.getKey());
      assertThat(to).as("%s kept the delivery that was %s", name, from).isNotNull();
      if (to != from) {
        assertThat(from.canMoveTo(to))
            .as(
                "%s moved a delivery from %s to %s, a move the table does not allow",
                name, from, to)
            .isTrue();
        moves.add(List.of(from, to));
      }
    }
    return moves;
  }

  static List<DeliveryState> move(DeliveryState from, DeliveryState to) {
    return List.of(from, to);
  }

  @Test
  void everyQueueOperationMakesOnlyMovesTheTableAllows() throws Exception {
    DeliveryState pending = DeliveryState.PENDING;
    DeliveryState inFlight = DeliveryState.IN_FLIGHT;
    DeliveryState retry = DeliveryState.RETRY_SCHEDULED;
    DeliveryState delivered = DeliveryState.DELIVERED;
    DeliveryState dead = DeliveryState.DEAD;
    DeliveryState skipped = DeliveryState.SKIPPED;
    DeliveryFilter every =
        new DeliveryFilter(
            List.of(), null, null, java.util.EnumSet.allOf(DeliveryState.class), null, null, null);

    assertThat(
            movesOf(
                "claim",
                rows -> {
                  for (DeliveryId id : rows.values()) {
                    queue.claim(id, "c", NOW, NOW.plusSeconds(60)).get();
                  }
                }))
        .containsExactlyInAnyOrder(move(pending, inFlight), move(retry, inFlight));
    List<java.util.function.Function<DeliveryId, Finish>> finishes =
        List.of(
            id -> new Finish.Delivered(id, "t", attempt(200), null),
            id -> new Finish.Retry(id, "t", attempt(503), NOW.plusSeconds(10), "http_5xx"),
            id -> new Finish.Dead(id, "t", attempt(400), "http 400", "http_4xx"),
            id -> new Finish.Skipped(id, "t", "stale"));
    List<DeliveryState> outcomes = List.of(delivered, retry, dead, skipped);
    for (int i = 0; i < finishes.size(); i++) {
      var finish = finishes.get(i);
      assertThat(
              movesOf(
                  "finish " + outcomes.get(i).dbValue(),
                  rows -> {
                    for (DeliveryId id : rows.values()) {
                      queue.finish(finish.apply(id), NOW).get();
                    }
                  }))
          .containsExactly(move(inFlight, outcomes.get(i)));
    }
    assertThat(movesOf("renew", rows -> queue.renew(tokens(rows), NOW.plusSeconds(60)).get()))
        .isEmpty();
    assertThat(movesOf("unclaim", rows -> queue.unclaim(tokens(rows), NOW).get()))
        .containsExactly(move(inFlight, pending));
    assertThat(movesOf("reap", rows -> queue.reapExpired(NOW)))
        .containsExactly(move(inFlight, pending));
    if (queue.singleNode()) {
      assertThat(movesOf("reap at start", rows -> queue.reapAll()))
          .containsExactly(move(inFlight, pending));
    } else {
      assertThat(
              movesOf(
                  "cluster claim",
                  rows ->
                      queue
                          .claimDue(
                              "d", Set.of(), Set.of(), Set.of(), 100, "c", NOW, NOW.plusSeconds(60))
                          .get()))
          .containsExactlyInAnyOrder(move(pending, inFlight), move(retry, inFlight));
    }
    assertThat(movesOf("replay", rows -> queue.replay(every, "ops", NOW).get()))
        .containsExactlyInAnyOrder(move(dead, pending), move(delivered, pending));
    assertThat(movesOf("discard", rows -> queue.discard(every, "ops", NOW).get()))
        .containsExactly(move(dead, skipped));
    assertThat(
            movesOf(
                "pause, resume and the end of a hold",
                rows -> {
                  queue.setPaused("d", true, "ops", NOW).get();
                  queue.setPaused("d", false, "ops", NOW).get();
                  queue.endHold("d", NOW.plusSeconds(3600), NOW).get();
                }))
        .isEmpty();
    assertThat(
            movesOf(
                "held-delivery expiry",
                rows -> queue.expireUnattempted("d", NOW, Instant.EPOCH, "max_age", NOW).get()))
        .containsExactly(move(pending, dead));
    assertThat(
            movesOf(
                "quarantine release",
                rows -> {
                  EventId quarantined =
                      ingest(
                              new NewEvent(
                                  "src",
                                  null,
                                  null,
                                  NOW,
                                  "p",
                                  NOW,
                                  "{}",
                                  Map.of(),
                                  EventStatus.QUARANTINED,
                                  "schema",
                                  List.of()))
                          .eventId();
                  assertThat(
                          store.release(
                              new QuarantineRelease(
                                  quarantined, null, List.of(ROUTE), "admin-api:ops", NOW)))
                      .isTrue();
                }))
        .isEmpty();
  }

  @Test
  void retentionRemovesOnlySettledDeliveriesAndMovesNone() throws Exception {
    oneInEachState("retention");
    Map<DeliveryId, DeliveryState> before = states();
    store.purgeHistory(
        NOW.plus(Duration.ofDays(100)), Duration.ofSeconds(1), Duration.ofSeconds(1), p -> {});
    Map<DeliveryId, DeliveryState> after = states();
    before.forEach(
        (id, state) -> {
          if (after.containsKey(id)) {
            assertThat(after.get(id)).as("retention moved a delivery").isEqualTo(state);
          } else {
            assertThat(state.isFinal()).as("retention removed a %s delivery", state).isTrue();
          }
        });
    assertThat(after.values())
        .containsExactlyInAnyOrder(
            DeliveryState.PENDING, DeliveryState.IN_FLIGHT, DeliveryState.RETRY_SCHEDULED);
  }

  static Map<DeliveryId, String> tokens(Map<DeliveryState, DeliveryId> rows) {
    Map<DeliveryId, String> leases = new HashMap<>();
    rows.values().forEach(id -> leases.put(id, "t"));
    return leases;
  }

  // --- ingest and idempotency ---

  @Test
  void secondEventWithTheSameKeyIsADuplicateOfTheFirst() throws Exception {
    IngestOutcome first = ingest(event("k"));
    IngestOutcome second = ingest(event("k"));
    assertThat(first).isInstanceOf(IngestOutcome.Accepted.class);
    assertThat(second).isEqualTo(new IngestOutcome.Duplicate(first.eventId()));
    assertThat(store.countEvents()).isEqualTo(1);
    assertThat(store.countUnfinishedDeliveries()).isEqualTo(1);
    assertThat(batches).hasSize(2);
    assertThat(store.findEvent(first.eventId()))
        .hasValueSatisfying(
            e -> {
              assertThat(e.payload()).isEqualTo("{\"k\":\"k\"}");
              assertThat(e.headers()).containsEntry("x-test", "1");
              assertThat(e.receivedAt()).isEqualTo(NOW);
            });
  }

  @Test
  void anExpiredKeyNotYetPurgedDoesNotMakeANewEventADuplicate() throws Exception {
    NewEvent shortLived =
        new NewEvent(
            "src",
            "k",
            NOW.plusSeconds(3600),
            NOW,
            "p",
            NOW,
            "{}",
            Map.of(),
            EventStatus.ACCEPTED,
            null,
            List.of(ROUTE));
    IngestOutcome first = ingest(shortLived);
    Instant later = NOW.plus(Duration.ofHours(2));
    IngestOutcome second = ingest(event("k", later, later, List.of(ROUTE)));
    assertThat(second).isInstanceOf(IngestOutcome.Accepted.class);
    assertThat(second.eventId()).isNotEqualTo(first.eventId());
    assertThat(ingest(event("k", later, later, List.of(ROUTE))))
        .as("the key now belongs to the second event")
        .isEqualTo(new IngestOutcome.Duplicate(second.eventId()));
    assertThat(store.countEvents()).isEqualTo(2);
  }

  @Test
  void expiredKeysArePurgedAndLiveOnesKept() throws Exception {
    ingest(event("old"));
    Duration week = Duration.ofDays(7);
    assertThat(store.purgeHistory(NOW.plus(Duration.ofHours(47)), week, week).keys()).isZero();
    assertThat(store.purgeHistory(NOW.plus(Duration.ofHours(48)), week, week).keys()).isEqualTo(1L);
    assertThat(ingest(event("old"))).isInstanceOf(IngestOutcome.Accepted.class);
    assertThat(store.countEvents()).isEqualTo(2);
  }

  @Test
  void eventsWithoutAKeyAreNeverDuplicates() throws Exception {
    NewEvent keyless =
        new NewEvent(
            "src",
            null,
            null,
            NOW,
            null,
            NOW,
            "{}",
            Map.of(),
            EventStatus.ACCEPTED,
            null,
            List.of(ROUTE));
    assertThat(ingest(keyless).eventId()).isNotEqualTo(ingest(keyless).eventId());
    assertThat(store.countEvents()).isEqualTo(2);
  }

  @Test
  void aBatchWithRepeatedKeysStoresEachKeyOnceAndAcceptsTheOthers() throws Exception {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      keys.add("dup-" + (i % 10)); // ten keys, four times each
      keys.add("new-" + i);
    }
    List<CompletableFuture<IngestOutcome>> writes = new ArrayList<>();
    for (String key : keys) {
      writes.add(store.ingest(event(key)));
    }
    Map<String, EventId> owner = new HashMap<>();
    for (int i = 0; i < keys.size(); i++) {
      IngestOutcome outcome = writes.get(i).get(30, TimeUnit.SECONDS);
      EventId previous = owner.putIfAbsent(keys.get(i), outcome.eventId());
      if (previous == null) {
        assertThat(outcome).as(keys.get(i)).isInstanceOf(IngestOutcome.Accepted.class);
      } else {
        assertThat(outcome).as(keys.get(i)).isEqualTo(new IngestOutcome.Duplicate(previous));
      }
    }
    assertThat(store.countEvents()).isEqualTo(50);
    assertThat(handed).hasSize(50);
    assertThat(store.countUnfinishedDeliveries()).isEqualTo(50);
  }

  /**
   * Events the database itself refuses (here one without a payload and one with a delivery without
   * a route, against their NOT NULL columns) sent in one batch with good ones: each fails alone,
   * every good one is stored and handed over.
   */
  @Test
  void anEventTheDatabaseRefusesFailsAloneAndTheRestOfItsBatchIsStored() throws Exception {
    CountDownLatch release = holdWriter();
    List<CompletableFuture<IngestOutcome>> good = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      good.add(store.ingest(event("before-" + i)));
    }
    NewEvent noPayload = event("no-payload");
    CompletableFuture<IngestOutcome> refusedEvent =
        store.ingest(
            new NewEvent(
                noPayload.source(),
                noPayload.idempotencyKey(),
                noPayload.keyExpiresAt(),
                NOW,
                "p",
                NOW,
                null,
                Map.of(),
                EventStatus.ACCEPTED,
                null,
                List.of(ROUTE)));
    for (int i = 0; i < 10; i++) {
      good.add(store.ingest(event("between-" + i)));
    }
    CompletableFuture<IngestOutcome> refusedDelivery =
        store.ingest(event("no-route", NOW, NOW, List.of(new NewEvent.RouteTarget(null, "d"))));
    for (int i = 0; i < 10; i++) {
      good.add(store.ingest(event("after-" + i)));
    }
    release.countDown();
    for (CompletableFuture<IngestOutcome> write : good) {
      assertThat(write.get(30, TimeUnit.SECONDS)).isInstanceOf(IngestOutcome.Accepted.class);
    }
    for (CompletableFuture<IngestOutcome> refused : List.of(refusedEvent, refusedDelivery)) {
      assertThatThrownBy(() -> refused.get(30, TimeUnit.SECONDS))
          .hasCauseInstanceOf(StoreUnavailableException.class);
    }
    assertThat(store.countEvents()).isEqualTo(30);
    assertThat(handed).hasSize(30);
    assertThat(store.countUnfinishedDeliveries()).isEqualTo(30);
  }

  // --- the queue ---

  @Test
  void committedPendingDeliveriesAreHandedOverAndFinalOnesAreNot() throws Exception {
    ingest(
        event(
            "k",
            NOW,
            NOW,
            List.of(
                ROUTE, new NewEvent.RouteTarget("r2", "d", DeliveryState.SKIPPED, "filtered"))));
    assertThat(handed)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.route()).isEqualTo("r");
              assertThat(d.payload()).isEqualTo("{\"k\":\"k\"}");
              assertThat(d.headers()).containsEntry("x-test", "1");
              assertThat(d.state()).isEqualTo(DeliveryState.PENDING);
            });
    assertThat(store.countUnfinishedDeliveries()).isEqualTo(1);
    assertThat(queue.countByState("d"))
        .containsEntry(DeliveryState.PENDING, 1L)
        .containsEntry(DeliveryState.SKIPPED, 1L);
    assertThat(queue.countByState(null)).containsEntry(DeliveryState.PENDING, 1L);
    assertThat(queue.deliveriesOf(handed.get(0).eventId()))
        .extracting(DeliveryRecord::route, DeliveryRecord::state, DeliveryRecord::lastError)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("r", DeliveryState.PENDING, null),
            org.assertj.core.groups.Tuple.tuple("r2", DeliveryState.SKIPPED, "filtered"));
  }

  @Test
  void theBacklogIsTalliedPerDestinationThroughEveryMove() throws Exception {
    NewEvent.RouteTarget toB = new NewEvent.RouteTarget("r2", "b");
    ingest(event("k1", NOW, NOW, List.of(ROUTE, toB)));
    ingest(event("k2"));
    assertThat(store.countUnfinishedDeliveries("d")).isEqualTo(2);
    assertThat(store.countUnfinishedDeliveries("b")).isEqualTo(1);
    assertThat(store.countUnfinishedDeliveries("nowhere")).isZero();
    assertThat(store.countUnfinishedDeliveries()).isEqualTo(3);

    QueuedDelivery first =
        handed.stream().filter(d -> d.destination().equals("d")).findFirst().get();
    QueuedDelivery toBDelivery =
        handed.stream().filter(d -> d.destination().equals("b")).findFirst().get();
    assertThat(queue.claim(first.id(), "t", NOW, NOW.plusSeconds(60)).get()).isTrue();
    assertThat(queue.claim(toBDelivery.id(), "t", NOW, NOW.plusSeconds(60)).get()).isTrue();
    queue.finish(new Finish.Dead(first.id(), "t", attempt(400), "http 400", "http_4xx"), NOW).get();
    queue
        .finish(
            new Finish.Retry(toBDelivery.id(), "t", attempt(503), NOW.plusSeconds(10), "http_5xx"),
            NOW)
        .get();
    assertThat(store.countUnfinishedDeliveries("d")).isEqualTo(1); // dead is final
    assertThat(store.countUnfinishedDeliveries("b")).isEqualTo(1); // a retry is not

    assertThat(
            queue
                .replay(DeliveryFilter.of(first.id(), Set.of(DeliveryState.DEAD)), "ops", NOW)
                .get())
        .hasSize(1);
    assertThat(store.countUnfinishedDeliveries("d")).isEqualTo(2);
    assertThat(store.countUnfinishedDeliveries("b")).isEqualTo(1);

    // held past max_age without a first attempt: both of d's pending deliveries
    assertThat(queue.expireUnattempted("d", NOW, Instant.EPOCH, "max_age (1h) exceeded", NOW).get())
        .hasSize(2);
    assertThat(queue.findDelivery(first.id()).orElseThrow().errorClass()).isEqualTo("max_age");
    assertThat(store.countUnfinishedDeliveries("d")).isZero();
    assertThat(store.countUnfinishedDeliveries()).isEqualTo(1);
  }

  @Test
  void anExpiryTakesOnlyWhatRanOutDuringTheHoldAndNothingWhileAnOperatorPaused() throws Exception {
    EventId early =
        ingest(event("early", NOW.minusSeconds(7200), NOW.minusSeconds(7200), List.of(ROUTE)))
            .eventId();
    EventId later =
        ingest(event("later", NOW.minusSeconds(3000), NOW.minusSeconds(3000), List.of(ROUTE)))
            .eventId();

    queue.setPaused("d", true, "ops", NOW).get();
    assertThat(queue.expireUnattempted("d", NOW, Instant.EPOCH, "max_age", NOW).get())
        .as("an operator's pause keeps its deliveries")
        .isEmpty();

    queue.setPaused("d", false, "ops", NOW).get();
    // the hold began 5,000 s after the max_age ago: "early" ran out before it
    List<DeliveryRecord> expired =
        queue
            .expireUnattempted("d", NOW.minusSeconds(60), NOW.minusSeconds(5000), "max_age", NOW)
            .get();
    assertThat(expired).extracting(DeliveryRecord::eventId).containsExactly(later);
    assertThat(queue.deliveriesOf(early).get(0).state()).isEqualTo(DeliveryState.PENDING);
    assertThat(queue.deliveriesOf(later).get(0).state()).isEqualTo(DeliveryState.DEAD);
    assertThat(store.countUnfinishedDeliveries("d")).isEqualTo(1);
  }

  @Test
  void aBulkReplayLargerThanOneChunkMovesEveryMatchingDeliveryOnce() throws Exception {
    int n = 1_100; // more than two of the replay's chunks
    List<CompletableFuture<IngestOutcome>> writes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      writes.add(store.ingest(event("bulk-" + i)));
    }
    for (CompletableFuture<IngestOutcome> w : writes) {
      w.get(30, TimeUnit.SECONDS);
    }
    store
        .writer()
        .submit(
            ctx -> {
              try (java.sql.Statement st = ctx.connection().createStatement()) {
                return st.executeUpdate(
                    "UPDATE deliveries SET state = 'dead', error_class = 'http_5xx'");
              }
            })
        .get(30, TimeUnit.SECONDS);

    List<DeliveryRecord> replayed =
        queue
            .replay(
                new DeliveryFilter(
                    List.of(), "d", null, Set.of(DeliveryState.DEAD), null, null, null),
                "ops",
                NOW)
            .get(60, TimeUnit.SECONDS);

    assertThat(replayed).hasSize(n);
    assertThat(replayed).extracting(DeliveryRecord::id).doesNotHaveDuplicates();
    assertThat(
            queue
                .replay(
                    new DeliveryFilter(
                        List.of(), "d", null, Set.of(DeliveryState.DEAD), null, null, null),
                    "ops",
                    NOW)
                .get(30, TimeUnit.SECONDS))
        .as("nothing dead is left")
        .isEmpty();
  }

  @Test
  void aWriteWithAStaleTokenChangesNothing() throws Exception {
    DeliveryId id = claimed("k", "A").id();
    assertThat(queue.claim(id, "B", NOW, NOW.plusSeconds(60)).get()).as("already held").isFalse();
    assertThat(queue.reapExpired(NOW.plusSeconds(30))).isZero();
    assertThat(queue.reapExpired(NOW.plusSeconds(61))).isEqualTo(1);
    assertThat(queue.findDelivery(id).orElseThrow().state()).isEqualTo(DeliveryState.PENDING);
    assertThat(queue.claim(id, "B", NOW, NOW.plusSeconds(60)).get()).isTrue();
    // A's lease was reaped and B claimed it again: A's outcome must not land
    assertThat(queue.finish(new Finish.Delivered(id, "A", attempt(200), null), NOW).get())
        .isFalse();
    assertThat(queue.renew(Map.of(id, "A"), NOW.plusSeconds(600)).get()).isZero();
    assertThat(queue.findDelivery(id).orElseThrow().state()).isEqualTo(DeliveryState.IN_FLIGHT);
    assertThat(queue.attemptsOf(id)).isEmpty();
    assertThat(queue.renew(Map.of(id, "B"), NOW.plusSeconds(600)).get()).isEqualTo(1);
    assertThat(queue.reapExpired(NOW.plusSeconds(300))).as("renewed lease").isZero();
    assertThat(queue.finish(new Finish.Delivered(id, "B", attempt(200), null), NOW).get()).isTrue();
    DeliveryRecord done = queue.findDelivery(id).orElseThrow();
    assertThat(done.state()).isEqualTo(DeliveryState.DELIVERED);
    assertThat(done.attempts()).isEqualTo(1);
    assertThat(queue.attemptsOf(id))
        .singleElement()
        .satisfies(a -> assertThat(a.status()).isEqualTo(200));
    assertThat(store.countUnfinishedDeliveries()).isZero();
  }

  @Test
  void everyOutcomeIsRecordedWithItsAttempt() throws Exception {
    DeliveryId retried = claimed("a", "t").id();
    DeliveryId dead = claimed("b", "t").id();
    DeliveryId skipped = claimed("c", "t").id();
    assertThat(
            queue
                .finish(
                    new Finish.Retry(retried, "t", attempt(503), NOW.plusSeconds(10), "http_5xx"),
                    NOW)
                .get())
        .isTrue();
    assertThat(
            queue
                .finish(new Finish.Dead(dead, "t", attempt(400), "http 400", "http_4xx"), NOW)
                .get())
        .isTrue();
    assertThat(queue.finish(new Finish.Skipped(skipped, "t", "stale"), NOW).get()).isTrue();
    assertThat(queue.findDelivery(retried).orElseThrow())
        .satisfies(
            d -> {
              assertThat(d.state()).isEqualTo(DeliveryState.RETRY_SCHEDULED);
              assertThat(d.nextAttemptAt()).isEqualTo(NOW.plusSeconds(10));
              assertThat(d.errorClass()).isEqualTo("http_5xx");
              assertThat(d.attempts()).isEqualTo(1);
            });
    assertThat(queue.findDelivery(dead).orElseThrow())
        .satisfies(
            d -> {
              assertThat(d.state()).isEqualTo(DeliveryState.DEAD);
              assertThat(d.lastError()).isEqualTo("http 400");
            });
    assertThat(queue.findDelivery(skipped).orElseThrow().lastError()).isEqualTo("stale");
    assertThat(queue.attemptsOf(dead))
        .singleElement()
        .satisfies(a -> assertThat(a.status()).isEqualTo(400));
    assertThat(queue.attemptsOf(skipped)).isEmpty();
    assertThat(queue.countOpen("d"))
        .containsEntry(DeliveryState.RETRY_SCHEDULED, 1L)
        .containsEntry(DeliveryState.DEAD, 1L)
        .containsEntry(DeliveryState.PENDING, 0L);
  }

  @Test
  void scansFollowArrivalOrderFromACursorAndOnlyWhatIsDue() throws Exception {
    for (int i = 0; i < 5; i++) {
      ingest(event("k" + i));
    }
    List<QueuedDelivery> first =
        queue.scan("d", DeliveryState.PENDING, NOW, null, Long.MIN_VALUE, 3);
    assertThat(first)
        .extracting(QueuedDelivery::id)
        .containsExactlyElementsOf(handed.subList(0, 3).stream().map(QueuedDelivery::id).toList());
    QueuedDelivery last = first.get(2);
    assertThat(queue.scan("d", DeliveryState.PENDING, NOW, last.nextAttemptAt(), last.seq(), 10))
        .extracting(QueuedDelivery::id)
        .containsExactlyElementsOf(handed.subList(3, 5).stream().map(QueuedDelivery::id).toList());
    assertThat(
            queue.scan("d", DeliveryState.PENDING, NOW.minusSeconds(1), null, Long.MIN_VALUE, 10))
        .as("not due yet")
        .isEmpty();
    DeliveryId retried = handed.get(0).id();
    queue.claim(retried, "t", NOW, NOW.plusSeconds(60)).get();
    queue
        .finish(new Finish.Retry(retried, "t", attempt(503), NOW.plusSeconds(10), "http_5xx"), NOW)
        .get();
    assertThat(
            queue.scan(
                "d", DeliveryState.RETRY_SCHEDULED, NOW.plusSeconds(9), null, Long.MIN_VALUE, 10))
        .isEmpty();
    assertThat(
            queue.scan(
                "d", DeliveryState.RETRY_SCHEDULED, NOW.plusSeconds(10), null, Long.MIN_VALUE, 10))
        .singleElement()
        .satisfies(d -> assertThat(d.attempts()).isEqualTo(1));
    assertThat(queue.claim(retried, "t2", NOW.plusSeconds(9), NOW.plusSeconds(60)).get())
        .as("a retry is not claimable before it is due")
        .isFalse();
    assertThat(queue.claim(retried, "t2", NOW.plusSeconds(10), NOW.plusSeconds(60)).get()).isTrue();
  }

  @Test
  void earlierUnfinishedFindsTheKeysHeadInEventTimeOrder() throws Exception {
    ingest(event("late", NOW, NOW.plusSeconds(20), List.of(ROUTE)));
    ingest(event("early", NOW, NOW.plusSeconds(10), List.of(ROUTE)));
    QueuedDelivery late = handed.get(0);
    QueuedDelivery early = handed.get(1);
    assertThat(queue.earlierUnfinished(late, false)).map(QueuedDelivery::id).contains(early.id());
    assertThat(queue.earlierUnfinished(early, false)).isEmpty();
    queue.claim(early.id(), "t", NOW, NOW.plusSeconds(60)).get();
    queue.finish(new Finish.Dead(early.id(), "t", attempt(400), "http 400", "http_4xx"), NOW).get();
    assertThat(queue.earlierUnfinished(late, false)).as("on_dead: continue").isEmpty();
    assertThat(queue.earlierUnfinished(late, true)).as("on_dead: block").isPresent();
  }

  @Test
  void theWatermarkKeepsTheNewestDeliveredEventTime() throws Exception {
    assertThat(queue.watermark("r", "p")).isEmpty();
    DeliveryId newer = claimed("newer", "t").id();
    DeliveryId older = claimed("older", "t").id();
    Finish.Watermark at20 = new Finish.Watermark("r", "p", NOW.plusSeconds(20));
    Finish.Watermark at10 = new Finish.Watermark("r", "p", NOW.plusSeconds(10));
    queue.finish(new Finish.Delivered(newer, "t", attempt(200), at20), NOW).get();
    assertThat(queue.watermark("r", "p")).contains(NOW.plusSeconds(20));
    queue.finish(new Finish.Delivered(older, "t", attempt(200), at10), NOW).get();
    assertThat(queue.watermark("r", "p"))
        .as("an older delivery never moves it back")
        .contains(NOW.plusSeconds(20));
    assertThat(queue.watermark("r", "other")).isEmpty();
  }

  @Test
  void replayMovesDeadLettersBackToPendingAndDiscardSkipsThem() throws Exception {
    DeliveryId first = claimed("a", "t").id();
    DeliveryId second = claimed("b", "t").id();
    for (DeliveryId id : List.of(first, second)) {
      queue.finish(new Finish.Dead(id, "t", attempt(500), "boom", "http_5xx"), NOW).get();
    }
    assertThat(queue.count(DeliveryFilter.deadLetters())).isEqualTo(2);
    assertThat(queue.count(DeliveryFilter.deadLetters().errorClass("http_4xx"))).isZero();
    assertThat(store.countUnfinishedDeliveries()).isZero();
    Instant later = NOW.plusSeconds(100);
    assertThat(
            queue.replay(DeliveryFilter.of(first, Set.of(DeliveryState.DEAD)), "ops", later).get())
        .singleElement()
        .satisfies(d -> assertThat(d.id()).isEqualTo(first));
    assertThat(queue.findDelivery(first).orElseThrow())
        .satisfies(
            d -> {
              assertThat(d.state()).isEqualTo(DeliveryState.PENDING);
              assertThat(d.attempts()).isZero();
              assertThat(d.replays()).isEqualTo(1);
              assertThat(d.handledBy()).isEqualTo("ops");
              assertThat(d.handledAt()).isEqualTo(later);
            });
    assertThat(queue.attemptsOf(first)).as("history kept across replays").hasSize(1);
    assertThat(store.countUnfinishedDeliveries()).isEqualTo(1);
    assertThat(queue.discard(DeliveryFilter.deadLetters().destination("d"), "ops", later).get())
        .isEqualTo(1);
    assertThat(queue.findDelivery(second).orElseThrow().state()).isEqualTo(DeliveryState.SKIPPED);
    assertThat(queue.count(DeliveryFilter.deadLetters())).isZero();
  }

  @Test
  void pausedDestinationsAreRemembered() throws Exception {
    assertThat(queue.pausedDestinations()).isEmpty();
    queue.setPaused("b", true, "ops", NOW).get();
    queue.setPaused("a", true, "ops", NOW).get();
    assertThat(queue.pausedDestinations()).containsExactly("a", "b");
    queue.setPaused("b", false, "ops", NOW).get();
    assertThat(queue.pausedDestinations()).containsExactly("a");
  }

  // --- quarantine release ---

  static NewEvent quarantined(String key, String source, Instant receivedAt) {
    return new NewEvent(
        source,
        key,
        receivedAt.plus(Duration.ofHours(48)),
        receivedAt,
        "p-" + key,
        receivedAt,
        "{\"k\":\"" + key + "\"}",
        Map.of("x-test", "1"),
        EventStatus.QUARANTINED,
        "$.formId: is missing but it is required",
        List.of());
  }

  static final NewEvent.RouteTarget FILTERED =
      new NewEvent.RouteTarget("r2", "d", DeliveryState.SKIPPED, "filtered: when is false");

  @Test
  void releasingAQuarantinedEventCreatesItsDeliveriesOnceAsIfItJustArrived() throws Exception {
    EventId id = ingest(quarantined("q", "src", NOW)).eventId();
    assertThat(handed).isEmpty();
    Instant at = NOW.plusSeconds(600);
    QuarantineRelease release =
        new QuarantineRelease(id, null, List.of(ROUTE, FILTERED), "admin-api:ops", at);

    assertThat(store.release(release)).isTrue();
    assertThat(store.release(release)).as("the second release finds it accepted").isFalse();

    Event event = store.findEvent(id).orElseThrow();
    assertThat(event.status()).isEqualTo(EventStatus.ACCEPTED);
    assertThat(event.quarantineReason()).isNull();
    assertThat(event.releasedBy()).isEqualTo("admin-api:ops");
    assertThat(event.releasedAt()).isEqualTo(at);
    assertThat(handed)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.eventId()).isEqualTo(id);
              assertThat(d.route()).isEqualTo("r");
              assertThat(d.partitionKey()).isEqualTo("p-q");
              assertThat(d.payload()).isEqualTo("{\"k\":\"q\"}");
              assertThat(d.headers()).containsEntry("x-test", "1");
            });
    assertThat(queue.deliveriesOf(id))
        .extracting(DeliveryRecord::route, DeliveryRecord::state, DeliveryRecord::createdAt)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("r", DeliveryState.PENDING, at),
            org.assertj.core.groups.Tuple.tuple("r2", DeliveryState.SKIPPED, at));
    assertThat(store.countUnfinishedDeliveries()).isEqualTo(1);
  }

  @Test
  void aReleaseThatStillFailsKeepsTheEventQuarantinedWithTheNewReasonAndNothingElse()
      throws Exception {
    EventId id = ingest(quarantined("q", "src", NOW)).eventId();
    Instant at = NOW.plusSeconds(600);
    assertThat(
            store.release(
                new QuarantineRelease(id, "$.email: required", List.of(), "admin-api", at)))
        .isTrue();
    Event event = store.findEvent(id).orElseThrow();
    assertThat(event.status()).isEqualTo(EventStatus.QUARANTINED);
    assertThat(event.quarantineReason()).isEqualTo("$.email: required");
    assertThat(event.releasedBy()).isNull();
    assertThat(queue.deliveriesOf(id)).isEmpty();
    assertThat(handed).isEmpty();

    EventId accepted = ingest(event("a")).eventId();
    assertThat(store.release(new QuarantineRelease(accepted, null, List.of(ROUTE), "x", at)))
        .as("an accepted event is not released")
        .isFalse();
    assertThat(queue.deliveriesOf(accepted)).hasSize(1);
    assertThat(
            store.release(
                new QuarantineRelease(
                    new EventId("evt_00000000000000000000000000000000"),
                    null,
                    List.of(ROUTE),
                    "x",
                    at)))
        .isFalse();
  }

  @Test
  void quarantinedEventsAreCountedBySourceAndReceiveTime() throws Exception {
    ingest(quarantined("q1", "forms", NOW));
    ingest(quarantined("q2", "forms", NOW.plusSeconds(60)));
    ingest(quarantined("q3", "forms", NOW.plusSeconds(120)));
    ingest(quarantined("q4", "calls", NOW.plusSeconds(60)));
    ingest(event("a"));
    assertThat(
            store.countEvents(
                new EventQuery(
                    "forms",
                    EventStatus.QUARANTINED,
                    NOW,
                    NOW.plusSeconds(120),
                    null,
                    null,
                    null,
                    null,
                    1)))
        .isEqualTo(2);
    assertThat(
            store.countEvents(
                new EventQuery(
                    null, EventStatus.QUARANTINED, null, null, null, null, null, null, 1)))
        .isEqualTo(4);
  }

  // --- admin searches and counts ---

  @Test
  void searchesPageNewestFirstAndFilter() throws Exception {
    for (int i = 0; i < 7; i++) {
      Instant at = NOW.plusSeconds(i / 2); // pairs share a receive time: ties broken by id
      NewEvent e =
          event(
              "s" + i,
              at,
              at,
              List.of(new NewEvent.RouteTarget("r", "d", DeliveryState.DEAD, "failed")));
      ingest(
          new NewEvent(
              i % 2 == 0 ? "calls" : "forms",
              e.idempotencyKey(),
              e.keyExpiresAt(),
              e.eventTime(),
              "p" + (i % 3),
              e.receivedAt(),
              i == 4 ? "{\"note\":\"Needle_%\"}" : "{\"note\":\"hay\"}",
              Map.of(),
              EventStatus.ACCEPTED,
              null,
              e.routes()));
    }
    List<EventSummary> seen = new ArrayList<>();
    EventQuery q = new EventQuery(null, null, null, null, null, null, null, null, 3);
    while (true) {
      EventPage page = store.searchEvents(q);
      seen.addAll(page.events());
      if (page.next() == null) {
        break;
      }
      q = new EventQuery(null, null, null, null, null, null, null, page.next(), 3);
    }
    assertThat(seen).hasSize(7).extracting(EventSummary::idempotencyKey).doesNotHaveDuplicates();
    assertThat(seen)
        .isSortedAccordingTo(
            java.util.Comparator.comparing(EventSummary::receivedAt)
                .thenComparing(s -> s.id().value())
                .reversed());
    assertThat(seen.get(0).deliveries()).containsEntry(DeliveryState.DEAD, 1);
    assertThat(
            store
                .searchEvents(new EventQuery("calls", null, null, null, "p0", null, null, null, 10))
                .events())
        .extracting(EventSummary::idempotencyKey)
        .containsExactlyInAnyOrder("s0", "s6");
    assertThat(
            store
                .searchEvents(
                    new EventQuery(null, null, null, null, null, null, "needle_%", null, 10))
                .events())
        .extracting(EventSummary::idempotencyKey)
        .containsExactly("s4");
    assertThat(
            store
                .searchEvents(
                    new EventQuery(null, null, null, null, null, null, "needle%x", null, 10))
                .events())
        .as("wildcards are literal")
        .isEmpty();
    assertThat(store.findEvents("forms", EventStatus.ACCEPTED, 10)).hasSize(3);
    assertThat(store.findEvents(null, null, 2)).hasSize(2);
    assertThat(store.countEvents()).isEqualTo(7);
    List<DeliveryRecord> dead = queue.findDeliveries(DeliveryFilter.deadLetters(), null, 4);
    assertThat(dead).hasSize(4);
    DeliveryRecord last = dead.get(3);
    List<DeliveryRecord> rest =
        queue.findDeliveries(
            DeliveryFilter.deadLetters(),
            new dev.switchboard.store.PagePosition(last.createdAt(), last.id().value()),
            10);
    assertThat(rest).hasSize(3);
    assertThat(queue.count(DeliveryFilter.deadLetters().destination("d"))).isEqualTo(7);
  }
}
