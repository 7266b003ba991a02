package dev.switchboard.dispatch;

import static dev.switchboard.dispatch.CoreFixtures.ORDERED;
import static dev.switchboard.dispatch.CoreFixtures.PLAIN;
import static dev.switchboard.dispatch.CoreFixtures.T0;
import static dev.switchboard.dispatch.CoreFixtures.pending;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.domain.DeliveryState;
import dev.switchboard.store.QueuedDelivery;
import dev.switchboard.testing.FakeDeliveryQueue;
import dev.switchboard.testing.MutableClock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The single node's intake against a store in memory: the back-off while the store refuses claims
 * (on a nano-time source the test moves), per-key order the store knows of, and scans that fill
 * memory up to its capacity. Workers' store calls and the loop's tasks run when the test says.
 */
class LocalIntakeTest {
  final MutableClock clock = new MutableClock(T0);
  final FakeDeliveryQueue queue = new FakeDeliveryQueue(true);
  final CoreFixtures.Lane fixture = new CoreFixtures.Lane(clock);

  /** Store reads handed to a worker, not run yet. */
  final Deque<Runnable> workers = new ArrayDeque<>();

  /** Tasks posted to the loop, not run yet. */
  final Deque<Runnable> loop = new ArrayDeque<>();

  long nanos = 1_000_000_000L;
  DestinationLane lane;
  LocalIntake intake;

  void start(int scanBatch) {
    lane = fixture.build();
    intake =
        new LocalIntake(
            queue,
            clock,
            scanBatch,
            workers::add,
            loop::add,
            () -> Map.of("crm", lane),
            CoreFixtures::table,
            new Leases(Duration.ofSeconds(1)),
            () -> nanos);
  }

  static void runAll(Deque<Runnable> tasks) {
    while (!tasks.isEmpty()) {
      tasks.poll().run();
    }
  }

  void advanceNanos(Duration by) {
    nanos += by.toNanos();
  }

  /** One attempt's claims, as a worker makes them: those it holds, and what it still owns. */
  record Claims(List<Claimed> claimed, List<QueuedDelivery> open) {}

  Claims claim(QueuedDelivery... batch) throws InterruptedException {
    List<QueuedDelivery> open = new ArrayList<>(List.of(batch));
    return new Claims(intake.claim(lane, List.of(batch), open), open);
  }

  /** A pending delivery, in the store and taken from memory for an attempt. */
  QueuedDelivery stored(String id) {
    QueuedDelivery d = pending(id, PLAIN, null, 0, Long.parseLong(id.substring(1)));
    queue.add(d);
    lane.memory().add(d);
    assertThat(lane.memory().take()).isEqualTo(d);
    return d;
  }

  // ---------------------------------------------------------------- claims refused

  @Test
  void aClaimIsNotWaitedForWhileTheStoreTakesClaims() throws Exception {
    start(100);
    QueuedDelivery d = stored("d1");
    Claims c = claim(d);
    assertThat(c.claimed()).singleElement().satisfies(x -> assertThat(x.unconfirmed()).isNotNull());
    assertThat(queue.state(d.id())).isEqualTo(DeliveryState.IN_FLIGHT);
    assertThat(queue.token(d.id())).isEqualTo(c.claimed().get(0).token());
    assertThat(intake.holdBack()).isZero();
  }

  @Test
  void aRefusedClaimHoldsAttemptsBackLongerEachTimeUntilAClaimCommits() throws Exception {
    start(100);
    queue.claims.thenRefuse(8);
    // the first is sent before its claim's refusal is known: the claim is unconfirmed
    QueuedDelivery first = stored("d1");
    Claims sent = claim(first);
    assertThat(sent.claimed()).singleElement().satisfies(x -> assertThat(x.unconfirmed()).isDone());
    assertThat(intake.holdBack()).isEqualTo(Duration.ofMillis(100).toNanos());
    advanceNanos(Duration.ofMillis(60));
    assertThat(intake.holdBack()).isEqualTo(Duration.ofMillis(40).toNanos());

    // from now on each attempt waits for its claim, and a refused one is handed back unsent
    long[] waitsMs = {200, 400, 800, 1_600, 3_200, 5_000, 5_000};
    for (long waitMs : waitsMs) {
      advanceNanos(Duration.ofNanos(intake.holdBack()));
      QueuedDelivery next = stored("d" + (queue.claims.count() + 1));
      Claims refused = claim(next);
      assertThat(refused.claimed()).as("no claim held: nothing is sent").isEmpty();
      assertThat(refused.open()).as("handed back to the lane").isEmpty();
      assertThat(intake.holdBack()).isEqualTo(Duration.ofMillis(waitMs).toNanos());
      assertThat(queue.state(next.id())).isEqualTo(DeliveryState.PENDING);
      runAll(loop);
      assertThat(lane.memory().holds(next.id())).as("given back").isFalse();
      assertThat(lane.workWanted()).isTrue();
    }
    assertThat(queue.claims.count()).isEqualTo(8);

    advanceNanos(Duration.ofSeconds(5));
    assertThat(intake.holdBack()).isZero();
    QueuedDelivery taken = stored("d9");
    Claims committed = claim(taken);
    assertThat(committed.claimed())
        .singleElement()
        .satisfies(x -> assertThat(x.unconfirmed()).as("waited for: confirmed").isNull());
    assertThat(queue.state(taken.id())).isEqualTo(DeliveryState.IN_FLIGHT);

    // the store takes claims again: the next attempt does not wait for its claim
    queue.claims.thenRefuse(1);
    QueuedDelivery after = stored("d10");
    assertThat(claim(after).claimed())
        .singleElement()
        .satisfies(x -> assertThat(x.unconfirmed()).isNotNull());
    assertThat(intake.holdBack())
        .as("back-off starts again at 100 ms")
        .isEqualTo(Duration.ofMillis(100).toNanos());
  }

  @Test
  void theOperatorIsToldOnceThatClaimsAreRefusedAndWhenTheyAreTakenAgain() throws Exception {
    List<String> lines;
    try (DispatcherLog log = new DispatcherLog()) {
      start(100);
      queue.claims.thenRefuse(3);
      claim(stored("d1"));
      claim(stored("d2"));
      claim(stored("d3"));
      claim(stored("d4"));
      lines = log.messages();
    }
    assertThat(lines.stream().filter(m -> m.startsWith("claim refused (")))
        .containsExactly(
            "claim refused (1 in a row); attempts start again in 100 ms",
            "claim refused (2 in a row); attempts start again in 200 ms",
            "claim refused (3 in a row); attempts start again in 400 ms");
    assertThat(lines.stream().filter(m -> m.contains("refused to claim")))
        .as("throttled")
        .singleElement()
        .satisfies(m -> assertThat(m).contains("crm").contains("database or disk is full"));
    assertThat(lines).contains("the store takes claims again; deliveries resume");
  }

  // ---------------------------------------------------------------- per-key order

  @Test
  void anEarlierUnfinishedDeliveryOfTheKeyGoesFirst() throws Exception {
    start(100);
    QueuedDelivery earlier = pending("early", ORDERED, "k", 10, 1);
    QueuedDelivery later = pending("late", ORDERED, "k", 20, 2);
    queue.add(earlier, later);
    lane.memory().add(later); // memory did not know of the earlier one
    assertThat(lane.startRequest()).containsExactly(later);

    Claims c = claim(later);
    assertThat(c.claimed()).isEmpty();
    assertThat(c.open()).isEmpty();
    assertThat(queue.claims.count()).as("never claimed").isZero();
    assertThat(queue.state(later.id())).isEqualTo(DeliveryState.PENDING);
    runAll(loop);
    lane.noAttempt(false);
    assertThat(lane.memory().holds(earlier.id())).as("due: taken in").isTrue();
    assertThat(lane.startRequest()).containsExactly(earlier);
    assertThat(lane.startRequest()).as("the later one waits for it").isEmpty();
  }

  @Test
  void anEarlierDeliveryNotDueYetStillHoldsTheKey() throws Exception {
    start(100);
    QueuedDelivery earlier =
        CoreFixtures.delivery(
            "early", ORDERED, "k", 10, 1, DeliveryState.RETRY_SCHEDULED, T0.plusSeconds(60), 1);
    QueuedDelivery later = pending("late", ORDERED, "k", 20, 2);
    queue.add(earlier, later);
    lane.memory().add(later);
    lane.startRequest();
    assertThat(claim(later).claimed()).isEmpty();
    runAll(loop);
    assertThat(lane.memory().holds(earlier.id())).as("not due: left in the store").isFalse();
    assertThat(lane.startRequest()).isEmpty();
  }

  // ---------------------------------------------------------------- scans

  QueuedDelivery[] storePending(int n) {
    QueuedDelivery[] all = new QueuedDelivery[n];
    for (int i = 0; i < n; i++) {
      all[i] = pending("p" + (i + 1), PLAIN, null, 0, i + 1);
    }
    queue.add(all);
    return all;
  }

  /** The loop's turn: fill, then the scan's read on a worker, then its rows on the loop. */
  void fillAndRun() {
    intake.fill(lane, clock.instant(), DestinationLane.ProbeGate.ALONE);
    runAll(workers);
    runAll(loop);
  }

  @Test
  void aScanReadToTheEndFillsMemoryAndIsCaughtUp() {
    start(100);
    storePending(5);
    fillAndRun();
    assertThat(lane.memory().size()).isEqualTo(5);
    assertThat(lane.memory().overflow()).isFalse();
    assertThat(lane.workWanted()).isFalse();
    fillAndRun();
    assertThat(queue.scans()).as("nothing wanted: no second scan").hasSize(1);
  }

  @Test
  void aScanStopsAtCapacityAndReadsOnFromItsCursorOnceMemoryHasRoom() {
    fixture.capacity = 4;
    start(100);
    QueuedDelivery[] all = storePending(6);
    fillAndRun();
    assertThat(lane.memory().size()).isEqualTo(4);
    assertThat(lane.memory().overflow()).as("behind: the store holds more").isTrue();
    assertThat(lane.status(clock.instant()).moreInStore()).isTrue();

    fillAndRun();
    assertThat(queue.scans()).as("memory is still full: no scan").hasSize(1);

    for (int i = 0; i < 3; i++) {
      lane.memory().release(lane.memory().take(), false); // delivered
    }
    fillAndRun();
    FakeDeliveryQueue.Scan second = queue.scans().get(1);
    assertThat(second.afterSeq()).as("on from the cursor").isEqualTo(all[3].seq());
    assertThat(lane.memory().holds(all[4].id())).isTrue();
    assertThat(lane.memory().holds(all[5].id())).isTrue();
    assertThat(lane.memory().overflow()).as("read to the end").isFalse();
  }

  @Test
  void aFullBatchOfRowsMeansMoreMayWait() {
    start(2);
    storePending(5);
    fillAndRun();
    assertThat(lane.memory().size()).isEqualTo(2);
    assertThat(lane.memory().overflow()).isTrue();
    fillAndRun();
    fillAndRun();
    assertThat(lane.memory().size()).isEqualTo(5);
    assertThat(lane.memory().overflow()).isFalse();
    assertThat(queue.scans())
        .extracting(FakeDeliveryQueue.Scan::afterSeq)
        .containsExactly(Long.MIN_VALUE, 2L, 4L);
  }

  @Test
  void aFailedScanLetsTheNextOneTry() {
    start(100);
    storePending(2);
    queue.failScans(new IllegalStateException("store closed"));
    fillAndRun();
    assertThat(lane.memory().size()).isZero();
    queue.failScans(null);
    lane.wantWork();
    fillAndRun();
    assertThat(lane.memory().size()).isEqualTo(2);
  }

  @Test
  void aPollTakesInRetriesThatCameDue() {
    start(100);
    QueuedDelivery retry =
        CoreFixtures.delivery(
            "r1", PLAIN, null, 0, 1, DeliveryState.RETRY_SCHEDULED, T0.plusSeconds(30), 1);
    queue.add(retry);
    intake.poll(List.of(lane));
    runAll(workers);
    runAll(loop);
    assertThat(lane.memory().holds(retry.id())).isFalse();
    clock.advance(Duration.ofSeconds(30));
    intake.poll(List.of(lane));
    runAll(workers);
    runAll(loop);
    assertThat(lane.memory().holds(retry.id())).isTrue();
  }

  @Test
  void aDeliveryThatFinishedWhileAScanReadIsNotTakenInAgain() {
    start(100);
    QueuedDelivery[] all = storePending(2);
    intake.fill(lane, clock.instant(), DestinationLane.ProbeGate.ALONE);
    runAll(workers); // the scan read both as pending
    lane.memory().noteFinished(all[0].id()); // then the first finished (it was handed over)
    runAll(loop);
    assertThat(lane.memory().holds(all[0].id())).isFalse();
    assertThat(lane.memory().holds(all[1].id())).isTrue();
  }
}
