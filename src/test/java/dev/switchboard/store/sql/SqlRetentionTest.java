package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryFilter;
import dev.switchboard.store.Finish;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import dev.switchboard.store.Purged;
import dev.switchboard.store.QueuedDelivery;
import dev.switchboard.testing.MutableClock;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention on a real SQLite file: what is purged, what is kept whatever its age. The same tests
 * run on PostgreSQL in {@link SqlRetentionPostgresIT}.
 */
class SqlRetentionTest {
  static final Duration DELIVERED = Duration.ofDays(7);
  static final Duration DEAD = Duration.ofDays(30);
  static final Duration KEY_TTL = Duration.ofDays(2);

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-01T00:00:00Z"));
  final List<QueuedDelivery> handed = new CopyOnWriteArrayList<>();
  Dialect dialect;
  SqlEventStore store;

  /** The database under test (SqlRetentionPostgresIT runs the same tests on PostgreSQL). */
  Dialect newDialect() throws Exception {
    return new SqliteDialect(dir.resolve("r.db"));
  }

  SqlEventStore openStore(Dialect dialect) throws Exception {
    return SqlEventStore.open(dialect, clock, n -> {});
  }

  @BeforeEach
  void open() throws Exception {
    dialect = newDialect();
    store = openStore(dialect);
    store.deliveries().onCommitted(handed::addAll);
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** Ingests an event received now (the clock's time) with one pending delivery. */
  EventId ingest(String key) throws Exception {
    Instant now = clock.instant();
    IngestOutcome outcome =
        store
            .ingest(
                new NewEvent(
                    "src",
                    key,
                    now.plus(KEY_TTL),
                    now,
                    key,
                    now,
                    "{\"k\":\"" + key + "\"}",
                    Map.of(),
                    EventStatus.ACCEPTED,
                    null,
                    List.of(new NewEvent.RouteTarget("r", "d"))))
            .get();
    assertThat(outcome).isInstanceOf(IngestOutcome.Accepted.class);
    return outcome.eventId();
  }

  DeliveryId deliveryOf(EventId event) {
    return store.deliveries().deliveriesOf(event).get(0).id();
  }

  AttemptRecord attempt(int status) {
    return new AttemptRecord(
        1, clock.instant(), Duration.ofMillis(3), status, "x", null, "excerpt");
  }

  void deliver(EventId event) throws Exception {
    DeliveryId id = deliveryOf(event);
    Instant now = clock.instant();
    assertThat(store.deliveries().claim(id, "t", now, now.plusSeconds(60)).get()).isTrue();
    assertThat(
            store.deliveries().finish(new Finish.Delivered(id, "t", attempt(200), null), now).get())
        .isTrue();
  }

  void kill(EventId event) throws Exception {
    DeliveryId id = deliveryOf(event);
    Instant now = clock.instant();
    assertThat(store.deliveries().claim(id, "t", now, now.plusSeconds(60)).get()).isTrue();
    assertThat(
            store
                .deliveries()
                .finish(new Finish.Dead(id, "t", attempt(400), "http 400", "http_4xx"), now)
                .get())
        .isTrue();
  }

  void retryLater(EventId event) throws Exception {
    DeliveryId id = deliveryOf(event);
    Instant now = clock.instant();
    assertThat(store.deliveries().claim(id, "t", now, now.plusSeconds(60)).get()).isTrue();
    assertThat(
            store
                .deliveries()
                .finish(
                    new Finish.Retry(id, "t", attempt(503), now.plus(Duration.ofDays(90)), "5xx"),
                    now)
                .get())
        .isTrue();
  }

  Purged purge() {
    return store.purgeHistory(clock.instant(), DELIVERED, DEAD);
  }

  long count(String table) throws Exception {
    try (Connection c = dialect.dataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void oldDeliveredEventsGoWithTheirDeliveriesAndAttemptsAndRecentOnesStay() throws Exception {
    EventId old = ingest("old");
    deliver(old);
    clock.advance(Duration.ofDays(3));
    EventId recent = ingest("recent");
    deliver(recent);
    assertThat(count("attempts")).isEqualTo(2);

    clock.advance(Duration.ofDays(5)); // old is 8 days old, recent 5
    Purged purged = purge();

    assertThat(purged.events()).isEqualTo(1);
    assertThat(purged.deliveries()).isEqualTo(1);
    assertThat(purged.attempts()).isEqualTo(1);
    assertThat(store.findEvent(old)).isEmpty();
    assertThat(store.findEvent(recent)).isPresent();
    assertThat(count("deliveries")).isEqualTo(1);
    assertThat(count("attempts")).isEqualTo(1);
    assertThat(store.deliveries().deliveriesOf(recent)).hasSize(1);

    clock.advance(Duration.ofDays(3));
    assertThat(purge().events()).isEqualTo(1);
    assertThat(store.countEvents()).isZero();
    assertThat(count("attempts")).isZero();
  }

  @Test
  void eventsWithUnfinishedDeliveriesStayWhateverTheirAge() throws Exception {
    EventId pending = ingest("pending");
    EventId retrying = ingest("retrying");
    retryLater(retrying);
    EventId inFlight = ingest("in-flight");
    DeliveryId claimed = deliveryOf(inFlight);
    assertThat(
            store
                .deliveries()
                .claim(claimed, "t", clock.instant(), clock.instant().plus(Duration.ofDays(400)))
                .get())
        .isTrue();

    clock.advance(Duration.ofDays(365));
    Purged purged = purge();

    assertThat(purged.events()).isZero();
    assertThat(store.findEvent(pending)).isPresent();
    assertThat(store.findEvent(retrying)).isPresent();
    assertThat(store.findEvent(inFlight)).isPresent();
    assertThat(count("attempts")).isEqualTo(1);
    assertThat(store.countUnfinishedDeliveries()).isEqualTo(3);
  }

  @Test
  void deadLettersStayUntilTheirAgeOrUntilDiscarded() throws Exception {
    EventId dead = ingest("dead");
    kill(dead);
    EventId discarded = ingest("discarded");
    kill(discarded);

    clock.advance(Duration.ofDays(8));
    assertThat(purge().events()).as("dead letters outlive delivered retention").isZero();

    store
        .deliveries()
        .discard(
            DeliveryFilter.of(deliveryOf(discarded), Set.of(DeliveryState.DEAD)),
            "ops",
            clock.instant())
        .get();
    clock.advance(Duration.ofDays(1));
    assertThat(purge().events()).as("handled, but only just").isZero();

    clock.advance(Duration.ofDays(7)); // discarded 7 days ago, dead letter 16 days old
    assertThat(purge().events()).isEqualTo(1);
    assertThat(store.findEvent(discarded)).isEmpty();
    assertThat(store.findEvent(dead)).isPresent();

    clock.advance(Duration.ofDays(13)); // 29 days
    assertThat(purge().events()).isZero();
    clock.advance(Duration.ofDays(2)); // 31 days
    assertThat(purge().events()).isEqualTo(1);
    assertThat(store.findEvent(dead)).isEmpty();
    assertThat(count("deliveries")).isZero();
  }

  @Test
  void aReplayedDeliveryStartsTheClockAgain() throws Exception {
    EventId event = ingest("replayed");
    kill(event);
    clock.advance(Duration.ofDays(20));
    store
        .deliveries()
        .replay(
            DeliveryFilter.of(deliveryOf(event), Set.of(DeliveryState.DEAD)),
            "ops",
            clock.instant())
        .get();
    clock.advance(Duration.ofDays(1));
    deliver(event);
    clock.advance(Duration.ofDays(2)); // received 23 days ago, delivered 2 days ago
    assertThat(purge().events()).isZero();
    clock.advance(Duration.ofDays(6));
    assertThat(purge().events()).isEqualTo(1);
  }

  @Test
  void aReplayBetweenTheReadAndTheDeleteKeepsTheEvent() throws Exception {
    EventId event = ingest("raced");
    deliver(event);
    clock.advance(Duration.ofDays(8));
    long deliveredCutoff = clock.instant().minus(DELIVERED).toEpochMilli();
    long deadCutoff = clock.instant().minus(DEAD).toEpochMilli();
    SqlRetention.Candidates found;
    try (Connection c = dialect.dataSource().getConnection()) {
      found = SqlRetention.candidates(c, SqlRetention.Position.START, deliveredCutoff, deadCutoff);
    }
    assertThat(found.ids()).containsExactly(event.value());

    store
        .deliveries()
        .replay(
            DeliveryFilter.of(deliveryOf(event), Set.of(DeliveryState.DELIVERED)),
            "ops",
            clock.instant())
        .get();
    assertThat(store.purgeEvents(found.ids(), deliveredCutoff, deadCutoff)).isEqualTo(Purged.NONE);
    assertThat(store.findEvent(event)).isPresent();
    assertThat(store.deliveries().deliveriesOf(event).get(0).state())
        .isEqualTo(DeliveryState.PENDING);
  }

  IngestOutcome resend(String key) throws Exception {
    Instant now = clock.instant();
    return store
        .ingest(
            new NewEvent(
                "src",
                key,
                now.plus(KEY_TTL),
                now,
                key,
                now,
                "{}",
                Map.of(),
                EventStatus.ACCEPTED,
                null,
                List.of()))
        .get();
  }

  @Test
  void expiredKeysArePurgedLiveOnesKeptAndTheSameEventIsThenAcceptedAsNew() throws Exception {
    EventId first = ingest("k");
    assertThat(resend("k")).isEqualTo(new IngestOutcome.Duplicate(first));
    clock.advance(Duration.ofDays(1));
    EventId later = ingest("later");
    assertThat(count("idempotency_keys")).isEqualTo(2);

    clock.advance(Duration.ofDays(1).minusSeconds(1));
    assertThat(purge().keys()).as("k expires in a second").isZero();
    clock.advance(Duration.ofSeconds(1));
    assertThat(purge().keys()).isEqualTo(1);
    assertThat(count("idempotency_keys")).isEqualTo(1);
    assertThat(resend("later"))
        .as("a live key still absorbs duplicates")
        .isEqualTo(new IngestOutcome.Duplicate(later));

    EventId again = ingest("k");
    assertThat(again).isNotEqualTo(first);
    assertThat(store.countEvents()).isEqualTo(3);
  }

  /**
   * One day of traffic: {@code n} events ingested and delivered (concurrently, group-committed).
   */
  void day(int day, int n) throws Exception {
    Instant now = clock.instant();
    handed.clear();
    List<CompletableFuture<IngestOutcome>> ingests = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      String key = "d" + day + "-" + i;
      ingests.add(
          store.ingest(
              new NewEvent(
                  "src",
                  key,
                  now.plus(KEY_TTL),
                  now,
                  key,
                  now,
                  "{}",
                  Map.of(),
                  EventStatus.ACCEPTED,
                  null,
                  List.of(new NewEvent.RouteTarget("r", "d")))));
    }
    CompletableFuture.allOf(ingests.toArray(CompletableFuture[]::new)).get();
    assertThat(handed).hasSize(n);
    List<CompletableFuture<Boolean>> claims = new java.util.ArrayList<>();
    for (QueuedDelivery d : handed) {
      claims.add(store.deliveries().claim(d.id(), "t", now, now.plusSeconds(60)));
    }
    CompletableFuture.allOf(claims.toArray(CompletableFuture[]::new)).get();
    List<CompletableFuture<Boolean>> finishes = new java.util.ArrayList<>();
    for (QueuedDelivery d : handed) {
      finishes.add(
          store.deliveries().finish(new Finish.Delivered(d.id(), "t", attempt(200), null), now));
    }
    CompletableFuture.allOf(finishes.toArray(CompletableFuture[]::new)).get();
    assertThat(finishes).allSatisfy(f -> assertThat(f.get()).isTrue());
  }

  /** Events a day in the steady-load test: more than one purge batch. */
  int perDay() {
    return 1_200;
  }

  @Test
  void manyBatchesArePurgedAndTheDatabaseStaysBoundedUnderSteadyLoad() throws Exception {
    int perDay = perDay();
    long maxEvents = 0;
    long purgedEvents = 0;
    for (int day = 0; day < 12; day++) {
      day(day, perDay);
      purgedEvents += purge().events();
      maxEvents = Math.max(maxEvents, store.countEvents());
      assertThat(count("idempotency_keys")).isLessThanOrEqualTo(2L * perDay);
      clock.advance(Duration.ofDays(1));
    }
    // the last 7 days are kept (a day's events are purged exactly 7 days later), never more
    assertThat(maxEvents).isEqualTo(7L * perDay);
    assertThat(purgedEvents).isEqualTo(5L * perDay);
    assertThat(count("deliveries")).isEqualTo(7L * perDay);
    assertThat(count("attempts")).isEqualTo(7L * perDay);
    clock.advance(DELIVERED.plus(KEY_TTL));
    purge();
    assertThat(store.countEvents()).isZero();
    assertThat(count("deliveries")).isZero();
    assertThat(count("attempts")).isZero();
    assertThat(count("idempotency_keys")).isZero();
  }

  @Test
  void eachWriteBatchIsReportedAsItCommitsAndTheBatchesAddUpToThePass() throws Exception {
    int n = perDay();
    day(0, n);
    clock.advance(DELIVERED.plus(KEY_TTL).plusDays(1));
    List<Purged> batches = new CopyOnWriteArrayList<>();
    Purged total = store.purgeHistory(clock.instant(), DELIVERED, DEAD, batches::add);
    assertThat(total.events()).isEqualTo(n);
    assertThat(total.keys()).isEqualTo(n);
    // more than one batch of events (perDay is above BATCH), each at most BATCH
    assertThat(batches.stream().filter(b -> b.events() > 0)).hasSizeGreaterThan(1);
    assertThat(batches)
        .allSatisfy(b -> assertThat(b.events()).isLessThanOrEqualTo(SqlRetention.BATCH));
    assertThat(batches.stream().mapToLong(Purged::events).sum()).isEqualTo(total.events());
    assertThat(batches.stream().mapToLong(Purged::deliveries).sum()).isEqualTo(total.deliveries());
    assertThat(batches.stream().mapToLong(Purged::attempts).sum()).isEqualTo(total.attempts());
    assertThat(batches.stream().mapToLong(Purged::keys).sum()).isEqualTo(total.keys());
    assertThat(store.countEvents()).isZero();
  }

  /**
   * The candidate scan is a range of the events_received index that stops after a batch, not a read
   * and sort of every event up to the cutoff (which made each batch cost as much as the whole
   * backlog, so that the purge fell behind a steady ingest in the soak).
   */
  @Test
  void theCandidateScanIsARangeOfTheReceivedIndexNotASortOfTheBacklog() throws Exception {
    String plan = candidatesPlan();
    // SQLite: "USE TEMP B-TREE FOR ORDER BY"; PostgreSQL: a Sort node
    assertThat(plan)
        .contains("events_received")
        .doesNotContainIgnoringCase("temp b-tree")
        .doesNotContain("Sort");
  }

  /** The database's plan for {@link SqlRetention#CANDIDATES}, bound as the store binds it. */
  String candidatesPlan() throws Exception {
    StringBuilder plan = new StringBuilder();
    try (Connection c = dialect.dataSource().getConnection();
        PreparedStatement ps =
            c.prepareStatement("EXPLAIN QUERY PLAN " + SqlRetention.CANDIDATES)) {
      bindCandidates(ps, 1_000L);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          plan.append(rs.getString("detail")).append('\n');
        }
      }
    }
    return plan.toString();
  }

  static void bindCandidates(PreparedStatement ps, long cutoff) throws Exception {
    ps.setLong(1, SqlRetention.Position.START.receivedAt());
    ps.setString(2, SqlRetention.Position.START.id());
    for (int i = 3; i <= 6; i++) {
      ps.setLong(i, cutoff);
    }
    ps.setInt(7, SqlRetention.BATCH);
  }
}
