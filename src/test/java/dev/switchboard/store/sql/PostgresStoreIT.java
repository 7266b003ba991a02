package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.domain.EventId;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import dev.switchboard.testing.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The store contract on a real PostgreSQL (one server for the class, a new database per test), and
 * what only a database shared by several nodes can show: the same idempotency key ingested by two
 * stores at once, and a key held by another node's open transaction.
 */
class PostgresStoreIT extends StoreContract {
  static final AtomicInteger DATABASES = new AtomicInteger();
  static EmbeddedPostgres pg;

  String database;
  final List<SqlEventStore> others = new ArrayList<>();

  @BeforeAll
  static void startServer() {
    pg = EmbeddedPostgres.start();
  }

  @AfterAll
  static void stopServer() {
    if (pg != null) {
      pg.close();
    }
  }

  @Override
  SqlEventStore open(IntConsumer batchSizes) throws Exception {
    database = pg.createDatabase("store_" + DATABASES.incrementAndGet());
    return node(batchSizes);
  }

  /** A store on this test's database, as another node would open it. */
  SqlEventStore node(IntConsumer batchSizes) throws SQLException {
    return SqlEventStore.open(
        new PostgresDialect(
            pg.jdbcUrl(database), EmbeddedPostgres.USER, EmbeddedPostgres.PASSWORD, 4),
        Clock.systemUTC(),
        batchSizes);
  }

  @AfterEach
  void closeOthers() {
    others.forEach(SqlEventStore::close);
  }

  long eventsWithKey(String key) throws SQLException {
    try (Connection c = pg.connect(database);
        PreparedStatement ps =
            c.prepareStatement("SELECT COUNT(*) FROM events WHERE idempotency_key = ?")) {
      ps.setString(1, key);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Test
  void theSameKeyOnTwoNodesAtOnceIsStoredOnceAndBothAnswersNameIt() throws Exception {
    SqlEventStore other = node(n -> {});
    others.add(other);
    int keys = 300;
    // each node takes the keys in the opposite order, so their batches meet on every key
    List<CompletableFuture<IngestOutcome>> here = new ArrayList<>();
    List<CompletableFuture<IngestOutcome>> there = new ArrayList<>();
    for (int i = 0; i < keys; i++) {
      here.add(store.ingest(event("race-" + i)));
      there.add(0, other.ingest(event("race-" + (keys - 1 - i))));
    }
    int accepted = 0;
    for (int i = 0; i < keys; i++) {
      IngestOutcome a = here.get(i).get(30, TimeUnit.SECONDS);
      IngestOutcome b = there.get(i).get(30, TimeUnit.SECONDS);
      assertThat(b.eventId()).as("race-" + i).isEqualTo(a.eventId());
      assertThat(List.of(a, b))
          .as("race-" + i + ": one is new, the other its duplicate")
          .filteredOn(o -> o instanceof IngestOutcome.Accepted)
          .hasSize(1);
      accepted++;
    }
    assertThat(accepted).isEqualTo(keys);
    assertThat(store.countEvents()).isEqualTo(keys);
    assertThat(eventsWithKey("race-7")).isEqualTo(1);
    assertThat(
            store.deliveries().countByState("d").values().stream().mapToLong(Long::longValue).sum())
        .as("one delivery per event")
        .isEqualTo(keys);
  }

  @Test
  void twoNodesReleasingTheSameEventsAtOnceCreateTheirDeliveriesOnce() throws Exception {
    SqlEventStore other = node(n -> {});
    others.add(other);
    int events = 100;
    List<dev.switchboard.domain.EventId> ids = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      ids.add(ingest(quarantined("q-" + i, "src", NOW)).eventId());
    }
    java.time.Instant at = NOW.plusSeconds(60);
    List<CompletableFuture<Boolean>> here = new ArrayList<>();
    List<CompletableFuture<Boolean>> there = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      // each node takes the events in the opposite order, so their releases meet on every one
      dev.switchboard.store.QuarantineRelease mine =
          new dev.switchboard.store.QuarantineRelease(ids.get(i), null, List.of(ROUTE), "a", at);
      dev.switchboard.store.QuarantineRelease theirs =
          new dev.switchboard.store.QuarantineRelease(
              ids.get(events - 1 - i), null, List.of(ROUTE), "b", at);
      here.add(CompletableFuture.supplyAsync(() -> store.release(mine)));
      there.add(CompletableFuture.supplyAsync(() -> other.release(theirs)));
    }
    int released = 0;
    for (int i = 0; i < events; i++) {
      boolean a = here.get(i).get(30, TimeUnit.SECONDS);
      boolean b = there.get(events - 1 - i).get(30, TimeUnit.SECONDS);
      assertThat(a ^ b).as("q-" + i + ": released by exactly one node").isTrue();
      released++;
    }
    assertThat(released).isEqualTo(events);
    for (dev.switchboard.domain.EventId id : ids) {
      assertThat(store.deliveries().deliveriesOf(id)).as(id.value()).hasSize(1);
    }
  }

  /**
   * PostgreSQL refuses text with a NUL character (ingest refuses such keys before the store; this
   * is the store's own fallback): the event fails alone and the rest of its batch is stored.
   */
  @Test
  void aKeyWithANulCharacterFailsAloneAndItsBatchIsStored() throws Exception {
    CountDownLatch release = holdWriter();
    List<CompletableFuture<IngestOutcome>> good = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      good.add(store.ingest(event("good-" + i)));
    }
    CompletableFuture<IngestOutcome> refused = store.ingest(event("bad\u0000key"));
    for (int i = 20; i < 40; i++) {
      good.add(store.ingest(event("good-" + i)));
    }
    release.countDown();
    for (CompletableFuture<IngestOutcome> write : good) {
      assertThat(write.get(30, TimeUnit.SECONDS)).isInstanceOf(IngestOutcome.Accepted.class);
    }
    assertThatThrownBy(() -> refused.get(30, TimeUnit.SECONDS))
        .hasCauseInstanceOf(dev.switchboard.store.StoreUnavailableException.class);
    assertThat(store.countEvents()).isEqualTo(40);
  }

  /**
   * Another node's transaction that has claimed {@code key} for event {@code id}, not committed.
   */
  Connection otherNodeClaims(String key, String id) throws SQLException {
    Connection c = pg.connect(database);
    c.setAutoCommit(false);
    try (PreparedStatement ps = c.prepareStatement(SqlText.CLAIM_KEY)) {
      ps.setString(1, "src");
      ps.setString(2, key);
      ps.setString(3, id);
      ps.setLong(4, NOW.plus(Duration.ofHours(48)).toEpochMilli());
      ps.setLong(5, NOW.toEpochMilli());
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO events (id, source, idempotency_key, event_time, received_at, payload,"
                + " headers, status) VALUES (?, 'src', ?, 0, 0, '{}', '{}', 'accepted')")) {
      ps.setString(1, id);
      ps.setString(2, key);
      ps.executeUpdate();
    }
    return c;
  }

  /** Submits three events in one batch of {@link #store}: the held key between two free ones. */
  List<CompletableFuture<IngestOutcome>> batchAroundHeldKey() throws Exception {
    CountDownLatch release = holdWriter();
    List<CompletableFuture<IngestOutcome>> writes =
        List.of(
            store.ingest(event("free-1")),
            store.ingest(event("held")),
            store.ingest(event("free-2")));
    release.countDown();
    // the batch now waits for the other node's transaction on the key it holds
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              try (Connection c = pg.connect();
                  PreparedStatement ps =
                      c.prepareStatement(
                          "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = ?"
                              + " AND wait_event_type = 'Lock'")) {
                ps.setString(1, database);
                try (ResultSet rs = ps.executeQuery()) {
                  rs.next();
                  return rs.getLong(1) == 1;
                }
              }
            });
    assertThat(writes).noneMatch(CompletableFuture::isDone);
    return writes;
  }

  @Test
  void aKeyInAnotherNodesOpenTransactionIsADuplicateOnceItCommitsAndTheRestOfTheBatchIsNew()
      throws Exception {
    try (Connection other = otherNodeClaims("held", "ev-other")) {
      List<CompletableFuture<IngestOutcome>> writes = batchAroundHeldKey();
      other.commit();
      assertThat(writes.get(1).get(30, TimeUnit.SECONDS))
          .isEqualTo(new IngestOutcome.Duplicate(new EventId("ev-other")));
      assertThat(writes.get(0).get(30, TimeUnit.SECONDS))
          .isInstanceOf(IngestOutcome.Accepted.class);
      assertThat(writes.get(2).get(30, TimeUnit.SECONDS))
          .isInstanceOf(IngestOutcome.Accepted.class);
    }
    assertThat(store.countEvents()).isEqualTo(3);
    assertThat(handed).hasSize(2);
  }

  static NewEvent eventAt(String key, Instant receivedAt) {
    return event(key, receivedAt, receivedAt, List.of(ROUTE));
  }

  /**
   * One batch written together (keys claimed by one statement): keys twice in the batch, keys
   * another node stored, an expired key taken over and one whose expiry lies between the batch's
   * receive times (each claim is checked against its own receive time), and an event without key.
   * Keys are claimed in key order: "edge" and "edge-stale" are claimed by the same statement.
   */
  @Test
  void oneBatchDecidesEveryKeyAsOneByOne() throws Exception {
    SqlEventStore other = node(n -> {});
    others.add(other);
    EventId shared = other.ingest(eventAt("shared", NOW)).get(30, TimeUnit.SECONDS).eventId();
    EventId edge = // expires at NOW + 38h
        other
            .ingest(eventAt("edge", NOW.minus(Duration.ofHours(10))))
            .get(30, TimeUnit.SECONDS)
            .eventId();
    EventId stale = // expires at NOW + 46h
        other
            .ingest(eventAt("edge-stale", NOW.minus(Duration.ofHours(2))))
            .get(30, TimeUnit.SECONDS)
            .eventId();
    Instant late = NOW.plus(Duration.ofHours(47));
    CountDownLatch release = holdWriter();
    List<CompletableFuture<IngestOutcome>> writes =
        List.of(
            store.ingest(eventAt("edge-stale", late)),
            store.ingest(eventAt("new-1", NOW)),
            store.ingest(eventAt("edge", NOW.plus(Duration.ofHours(1)))),
            store.ingest(eventAt(null, NOW)),
            store.ingest(eventAt("shared", NOW)),
            store.ingest(eventAt("new-1", NOW)),
            store.ingest(eventAt("edge-stale", late)),
            store.ingest(eventAt("shared", NOW)));
    release.countDown();
    List<IngestOutcome> out = new ArrayList<>();
    for (CompletableFuture<IngestOutcome> w : writes) {
      out.add(w.get(30, TimeUnit.SECONDS));
    }
    assertThat(batches).as("the writes were one batch").contains(writes.size());
    assertThat(out.get(0)).isInstanceOf(IngestOutcome.Accepted.class);
    assertThat(out.get(0).eventId()).as("expired key taken over").isNotEqualTo(stale);
    assertThat(out.get(6)).isEqualTo(new IngestOutcome.Duplicate(out.get(0).eventId()));
    assertThat(out.get(1)).isInstanceOf(IngestOutcome.Accepted.class);
    assertThat(out.get(5)).isEqualTo(new IngestOutcome.Duplicate(out.get(1).eventId()));
    assertThat(out.get(2))
        .as("live at its own receive time")
        .isEqualTo(new IngestOutcome.Duplicate(edge));
    assertThat(out.get(3)).isInstanceOf(IngestOutcome.Accepted.class);
    assertThat(out.get(4)).isEqualTo(new IngestOutcome.Duplicate(shared));
    assertThat(out.get(7)).isEqualTo(new IngestOutcome.Duplicate(shared));
    assertThat(store.countEvents()).isEqualTo(3 + 3);
    assertThat(eventsWithKey("edge-stale")).isEqualTo(2);
    assertThat(eventsWithKey("new-1")).isEqualTo(1);
    assertThat(handed).as("deliveries of the new events only").hasSize(3);
  }

  @Test
  void aKeyInAnotherNodesTransactionThatRollsBackIsNewHere() throws Exception {
    try (Connection other = otherNodeClaims("held", "ev-other")) {
      List<CompletableFuture<IngestOutcome>> writes = batchAroundHeldKey();
      other.rollback();
      IngestOutcome held = writes.get(1).get(30, TimeUnit.SECONDS);
      assertThat(held).isInstanceOf(IngestOutcome.Accepted.class);
      assertThat(held.eventId().value()).isNotEqualTo("ev-other");
      assertThat(writes.get(0).get(30, TimeUnit.SECONDS))
          .isInstanceOf(IngestOutcome.Accepted.class);
      assertThat(writes.get(2).get(30, TimeUnit.SECONDS))
          .isInstanceOf(IngestOutcome.Accepted.class);
    }
    assertThat(store.countEvents()).isEqualTo(3);
    assertThat(eventsWithKey("held")).isEqualTo(1);
  }

  @Test
  void aSharedStoreIsNotSingleNodeAndCountsOtherNodesBacklog() throws Exception {
    assertThat(queue.singleNode()).isFalse();
    assertThatThrownBy(queue::reapAll).isInstanceOf(IllegalStateException.class);
    SqlEventStore other = node(n -> {});
    others.add(other);
    ingest(event("mine"));
    for (int i = 0; i < 3; i++) {
      other.ingest(event("theirs-" + i)).get(30, TimeUnit.SECONDS);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> store.countUnfinishedDeliveries() == 4);
  }

  @Test
  void anExpiredLeaseOfAnotherNodeIsReapedAndAnotherNodesLiveLeaseIsNot() throws Exception {
    SqlEventStore other = node(n -> {});
    others.add(other);
    var theirs = claimed("theirs", "their-token");
    assertThat(store.deliveries().reapExpired(NOW.plusSeconds(30))).isZero();
    assertThat(
            other
                .deliveries()
                .finish(
                    new dev.switchboard.store.Finish.Delivered(
                        theirs.id(), "their-token", attempt(200), null),
                    NOW)
                .get())
        .as("another node may finish what this one claimed, with its token")
        .isTrue();
    var dead = claimed("dead-node", "lost");
    assertThat(other.deliveries().reapExpired(NOW.plusSeconds(61))).isEqualTo(1);
    assertThat(
            other
                .deliveries()
                .claim(dead.id(), "mine", NOW.plusSeconds(61), NOW.plusSeconds(120))
                .get())
        .isTrue();
  }

  @Test
  void theStoreRecoversWhenPostgresRestarts() throws Exception {
    ingest(event("before"));
    pg.stop();
    try {
      assertThat(store.ingest(event("during")))
          .failsWithin(Duration.ofSeconds(30))
          .withThrowableThat()
          .havingCause()
          .isInstanceOf(dev.switchboard.store.StoreUnavailableException.class);
      assertThat(store.isWritable()).isFalse();
      // the writer reconnects off its thread: meanwhile each write is refused at once (ingest
      // answers 503 without waiting for the pool's 5 s connection timeout)
      for (int i = 0; i < 3; i++) {
        long started = System.nanoTime();
        assertThat(store.ingest(event("during-" + i)))
            .failsWithin(Duration.ofSeconds(30))
            .withThrowableThat()
            .havingCause()
            .isInstanceOf(dev.switchboard.store.StoreUnavailableException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - started))
            .as("refused without waiting for a connection")
            .isLessThan(Duration.ofSeconds(1));
      }
    } finally {
      pg.startAgain();
    }
    // the writer and the readers replace the connections the restart broke
    await().atMost(Duration.ofSeconds(45)).until(store::isWritable);
    assertThat(ingest(event("during")))
        .as("the failed write left no mark: the sender's retry is new")
        .isInstanceOf(IngestOutcome.Accepted.class);
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> store.countEvents() == 2);
  }

  // --- cluster claims (ADR 0008) ---

  static final java.util.Set<String> PER_KEY = java.util.Set.of("r");

  java.util.List<dev.switchboard.store.QueuedDelivery> claimDue(
      SqlEventStore on, java.util.Set<String> blocking, int limit, String token) throws Exception {
    return on.deliveries()
        .claimDue(
            "d",
            PER_KEY,
            blocking,
            java.util.Set.of(),
            limit,
            token,
            NOW.plusSeconds(1),
            NOW.plusSeconds(60))
        .get(30, TimeUnit.SECONDS);
  }

  static java.util.List<String> keysOf(java.util.List<dev.switchboard.store.QueuedDelivery> ds) {
    return ds.stream().map(d -> d.payload().replaceAll(".*\"k\":\"([^\"]+)\".*", "$1")).toList();
  }

  @Test
  void twoNodesClaimingAtOnceNeverTakeTheSameDelivery() throws Exception {
    for (int i = 0; i < 200; i++) {
      store.ingest(
          event(
              "c" + i,
              NOW,
              NOW,
              List.of(new dev.switchboard.store.NewEvent.RouteTarget("u", "d"))));
    }
    ingest(
        event("last", NOW, NOW, List.of(new dev.switchboard.store.NewEvent.RouteTarget("u", "d"))));
    SqlEventStore other = node(n -> {});
    others.add(other);
    java.util.Map<String, String> owner = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.List<String> twice = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<CompletableFuture<Void>> claimers = new ArrayList<>();
    for (SqlEventStore node : List.of(store, other, store, other)) {
      claimers.add(
          CompletableFuture.runAsync(
              () -> {
                String token = "t" + System.identityHashCode(Thread.currentThread());
                try {
                  List<dev.switchboard.store.QueuedDelivery> got;
                  do {
                    got = claimDue(node, java.util.Set.of(), 7, token);
                    got.forEach(
                        d -> {
                          if (owner.putIfAbsent(d.id().value(), token) != null) {
                            twice.add(d.id().value());
                          }
                        });
                  } while (!got.isEmpty());
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    claimers.forEach(CompletableFuture::join);
    assertThat(twice).as("deliveries claimed twice").isEmpty();
    assertThat(owner).hasSize(201);
    assertThat(new java.util.HashSet<>(owner.values()))
        .as("claimers that got work")
        .hasSizeGreaterThan(1);
    assertThat(queue.countOpen("d").get(dev.switchboard.domain.DeliveryState.IN_FLIGHT))
        .isEqualTo(201);
  }

  @Test
  void aKeyIsClaimedOneDeliveryAtATimeInEventTimeOrder() throws Exception {
    for (int i = 1; i <= 3; i++) {
      ingest(event("e" + i, NOW, NOW.plusSeconds(i), List.of(ROUTE)));
    }
    var first = claimDue(store, java.util.Set.of(), 10, "a");
    assertThat(keysOf(first)).containsExactly("e1");
    SqlEventStore other = node(n -> {});
    others.add(other);
    assertThat(claimDue(other, java.util.Set.of(), 10, "b")).as("e1 in flight").isEmpty();
    finish(new dev.switchboard.store.Finish.Delivered(first.get(0).id(), "a", attempt(200), null));
    var second = claimDue(other, java.util.Set.of(), 10, "b");
    assertThat(keysOf(second)).containsExactly("e2");
    // an older event arriving late does not overtake the one in flight
    ingest(event("e0", NOW, NOW, List.of(ROUTE)));
    assertThat(claimDue(store, java.util.Set.of(), 10, "a")).as("e2 in flight").isEmpty();
    finish(new dev.switchboard.store.Finish.Delivered(second.get(0).id(), "b", attempt(200), null));
    var third = claimDue(store, java.util.Set.of(), 10, "a");
    assertThat(keysOf(third)).containsExactly("e0");
    finish(
        new dev.switchboard.store.Finish.Dead(
            third.get(0).id(), "a", attempt(400), "no", "http_4xx"));
    assertThat(claimDue(other, PER_KEY, 10, "b")).as("on_dead: block holds e3 behind e0").isEmpty();
    assertThat(keysOf(claimDue(other, java.util.Set.of(), 10, "b"))).containsExactly("e3");
  }

  @Test
  void outcomesWrittenTogetherDecideEachAsOneByOne() throws Exception {
    for (int i = 0; i < 40; i++) {
      ingest(
          event(
              "o" + i,
              NOW,
              NOW,
              List.of(new dev.switchboard.store.NewEvent.RouteTarget("u", "d"))));
    }
    var got = claimDue(store, java.util.Set.of(), 100, "a");
    assertThat(got).hasSize(40);
    // the outcome writer is held, so every outcome below waits and they are written in one batch
    CountDownLatch release = hold(store.outcomeWriter());
    List<CompletableFuture<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < 38; i++) {
      results.add(
          queue.finish(
              new dev.switchboard.store.Finish.Delivered(got.get(i).id(), "a", attempt(200), null),
              NOW.plusSeconds(1)));
    }
    var repeat = got.get(3).id();
    var wrongToken = got.get(38).id();
    var lastGood = got.get(39).id();
    results.add(
        queue.finish(
            new dev.switchboard.store.Finish.Delivered(repeat, "a", attempt(200), null),
            NOW.plusSeconds(1)));
    results.add(
        queue.finish(
            new dev.switchboard.store.Finish.Delivered(wrongToken, "b", attempt(200), null),
            NOW.plusSeconds(1)));
    results.add(
        queue.finish(
            new dev.switchboard.store.Finish.Delivered(lastGood, "a", attempt(200), null),
            NOW.plusSeconds(1)));
    release.countDown();
    List<Boolean> answers = new ArrayList<>();
    for (CompletableFuture<Boolean> r : results) {
      answers.add(r.get(30, TimeUnit.SECONDS));
    }
    assertThat(answers.subList(0, 38)).containsOnly(true);
    assertThat(answers.get(38)).as("a repeat finds the delivery already finished").isFalse();
    assertThat(answers.get(39)).as("another token's outcome is fenced off").isFalse();
    assertThat(answers.get(40)).isTrue();
    assertThat(queue.findDelivery(wrongToken).orElseThrow().state())
        .isEqualTo(dev.switchboard.domain.DeliveryState.IN_FLIGHT);
    assertThat(queue.findDelivery(repeat).orElseThrow().attempts()).isEqualTo(1);
    assertThat(queue.attemptsOf(repeat))
        .as("one attempt recorded for the repeat's delivery")
        .hasSize(1);
    assertThat(queue.attemptsOf(wrongToken)).isEmpty();
    assertThat(queue.attemptsOf(got.get(0).id()))
        .as("the attempt is written by the statement that finishes the run")
        .singleElement()
        .isEqualTo(attempt(200));
    assertThat(queue.countOpen("d").get(dev.switchboard.domain.DeliveryState.IN_FLIGHT))
        .isEqualTo(1);
    assertThat(store.countUnfinishedDeliveries()).isEqualTo(1);
  }

  void finish(dev.switchboard.store.Finish f) throws Exception {
    assertThat(queue.finish(f, NOW.plusSeconds(1)).get(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void nothingOfADestinationPausedOnAnyNodeIsClaimed() throws Exception {
    ingest(event("p1", NOW, NOW, List.of(ROUTE)));
    SqlEventStore other = node(n -> {});
    others.add(other);
    other.deliveries().setPaused("d", true, "ops", NOW).get(30, TimeUnit.SECONDS);
    assertThat(claimDue(store, java.util.Set.of(), 10, "a")).isEmpty();
    other.deliveries().setPaused("d", false, "ops", NOW).get(30, TimeUnit.SECONDS);
    assertThat(keysOf(claimDue(store, java.util.Set.of(), 10, "a"))).containsExactly("p1");
  }

  /**
   * With a row in destination_state (any destination ever paused or resumed), a pause check joined
   * to each due row made the planner expect one row out of the whole backlog: it read and sorted
   * every due row for each claim. Looked up once, it is a one-time filter before an ordered range
   * that stops at the limit.
   */
  @Test
  void aClaimLooksUpThePauseOnceAndReadsOnlyTheRangeItTakes() throws Exception {
    store.deliveries().setPaused("d", false, "ops", NOW).get(30, TimeUnit.SECONDS);
    List<String> plans = new ArrayList<>();
    try (Connection c = pg.connect(database)) {
      try (java.sql.Statement s = c.createStatement()) {
        s.execute(
            "INSERT INTO events (id, source, event_time, received_at, payload, headers, status)"
                + " SELECT 'evt_' || lpad(g::text, 8, '0'), 'src', g, g, '{}', '{}', 'accepted'"
                + " FROM generate_series(1, 20000) g");
        s.execute(
            "INSERT INTO deliveries (id, event_id, route, destination, state, event_time,"
                + " next_attempt_at, created_at, updated_at, seq)"
                + " SELECT 'dlv_' || lpad(g::text, 8, '0'), 'evt_' || lpad(g::text, 8, '0'), 'u',"
                + " 'd', 'pending', g, g, g, g, g FROM generate_series(1, 20000) g");
        s.execute("ANALYZE deliveries");
        s.execute("ANALYZE destination_state");
      }
      // the claim with the per-key conditions (5 arrays per arm), and without them (1)
      plans.add(explainClaim(c, PostgresStatements.CLAIM_DUE, 5));
      plans.add(explainClaim(c, PostgresStatements.CLAIM_DUE_UNORDERED, 1));
    }
    for (String plan : plans) {
      assertThat(plan)
          .as("the pause is a one-time filter, not a join with every due row")
          .contains("One-Time Filter")
          .doesNotContain("Anti Join")
          .as("an ordered range of deliveries_queue, not every due row sorted")
          .doesNotContain("Bitmap Heap Scan");
    }
  }

  static String explainClaim(Connection c, String claim, int arrays) throws SQLException {
    StringBuilder plan = new StringBuilder();
    try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + claim)) {
      ps.setString(1, "a");
      ps.setLong(2, Long.MAX_VALUE);
      ps.setLong(3, 1);
      ps.setLong(4, 1);
      java.sql.Array none = c.createArrayOf("text", new Object[0]);
      int i = 5;
      for (int arm = 0; arm < 2; arm++) {
        ps.setString(i++, "d");
        ps.setLong(i++, Long.MAX_VALUE);
        ps.setString(i++, "d");
        for (int a = 0; a < arrays; a++) {
          ps.setArray(i++, none);
        }
        ps.setInt(i++, 10);
      }
      ps.setInt(i, 10);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          plan.append(rs.getString(1)).append('\n');
        }
      }
    }
    return plan.toString();
  }

  /** A destination without per-key routes is claimed by the statement without their conditions. */
  @Test
  void aDestinationWithoutPerKeyRoutesIsClaimedWithoutTheirConditions() throws Exception {
    for (int i = 0; i < 5; i++) {
      ingest(event("n" + i, NOW.plusMillis(i), NOW, List.of(ROUTE)));
    }
    SqlEventStore other = node(n -> {});
    others.add(other);
    var first = claimUnordered(store, java.util.Set.of(), 3, "a");
    assertThat(keysOf(first)).containsExactly("n0", "n1", "n2");
    assertThat(keysOf(claimUnordered(other, java.util.Set.of("r"), 10, "b")))
        .as("a route held back is left to the others")
        .isEmpty();
    other.deliveries().setPaused("d", true, "ops", NOW).get(30, TimeUnit.SECONDS);
    assertThat(claimUnordered(other, java.util.Set.of(), 10, "b")).as("paused").isEmpty();
    other.deliveries().setPaused("d", false, "ops", NOW).get(30, TimeUnit.SECONDS);
    assertThat(keysOf(claimUnordered(other, java.util.Set.of(), 10, "b")))
        .as("what another node holds is passed over")
        .containsExactly("n3", "n4");
  }

  java.util.List<dev.switchboard.store.QueuedDelivery> claimUnordered(
      SqlEventStore on, java.util.Set<String> held, int limit, String token) throws Exception {
    return on.deliveries()
        .claimDue(
            "d",
            java.util.Set.of(),
            java.util.Set.of(),
            held,
            limit,
            token,
            NOW.plusSeconds(1),
            NOW.plusSeconds(60))
        .get(30, TimeUnit.SECONDS);
  }

  @Test
  void unclaimHandsBackOnlyWhatTheTokenHolds() throws Exception {
    ingest(event("x", NOW, NOW, List.of(ROUTE)));
    var got = claimDue(store, java.util.Set.of(), 10, "a");
    assertThat(got).hasSize(1);
    var id = got.get(0).id();
    assertThat(queue.unclaim(java.util.Map.of(id, "not-mine"), NOW).get()).isZero();
    assertThat(queue.unclaim(java.util.Map.of(id, "a"), NOW).get()).isEqualTo(1);
    assertThat(queue.findDelivery(id).orElseThrow().state())
        .isEqualTo(dev.switchboard.domain.DeliveryState.PENDING);
    assertThat(queue.findDelivery(id).orElseThrow().attempts()).isZero();
    assertThat(keysOf(claimDue(store, java.util.Set.of(), 10, "b"))).containsExactly("x");
  }

  @Test
  void anotherNodeHearsOfNewWorkAndListensAgainAfterARestart() throws Exception {
    SqlEventStore other = node(n -> {});
    others.add(other);
    List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (AutoCloseable listening = other.deliveries().onWork(heard::add)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(null)); // listening
      ingest(event("n1"));
      await().atMost(Duration.ofSeconds(5)).until(() -> heard.contains("d"));
      pg.stop();
      heard.clear();
      pg.startAgain();
      await().atMost(Duration.ofSeconds(30)).until(() -> heard.contains(null)); // listening again
      await().atMost(Duration.ofSeconds(45)).until(store::isWritable);
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(
              () -> {
                ingest(event("n" + System.nanoTime()));
                return heard.contains("d");
              });
    }
  }
}
