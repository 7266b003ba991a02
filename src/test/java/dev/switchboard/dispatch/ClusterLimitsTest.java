package dev.switchboard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.store.ClusterState;
import dev.switchboard.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * How one node's server hold follows the shared row (docs/adr/0009-cluster-limits.md): an
 * operator's resume on another node ends it, but a stale read or a longer hold of its own not yet
 * stored never does. The store calls and the loop's tasks run one step at a time, in the orders the
 * threads may give them.
 */
class ClusterLimitsTest {
  final Instant t0 = Instant.parse("2026-12-07T10:00:00.123456789Z");
  final MutableClock clock = new MutableClock(t0);
  final InMemoryState state = new InMemoryState();

  /** Store calls handed to the executor, not run yet. */
  final Deque<Runnable> store = new ArrayDeque<>();

  /** Tasks posted to the loop, not run yet. */
  final Deque<Runnable> loop = new ArrayDeque<>();

  final DestinationLane lane =
      new DestinationLane(
          new DestinationConfig(
              "crm", "http", null, DestinationConfig.Retry.DEFAULT, null, 4, Duration.ofSeconds(5)),
          null,
          "test",
          null,
          null,
          new LaneMemory(100, true, Set.of()));
  final ClusterLimits limits =
      new ClusterLimits(
          state, clock, store::add, loop::add, () -> Map.of("crm", lane), Duration.ofMillis(100));
  long nanos = System.nanoTime();

  /** Starts a sync: its read is handed to the executor. */
  void startSync() {
    nanos += Duration.ofSeconds(10).toNanos();
    limits.tick(nanos, () -> {});
  }

  void runAll(Deque<Runnable> tasks) {
    while (!tasks.isEmpty()) {
      tasks.poll().run();
    }
  }

  void sync() {
    startSync();
    runAll(store);
    runAll(loop);
  }

  /** This node's request was answered with a wait until {@code until}, as the dispatcher does. */
  void toldToWait(Instant until) {
    DestinationLane.Before before =
        new DestinationLane.Before(lane.breakerState(), lane.breakerOpenUntil(), lane.heldUntil());
    lane.hold(until, "http 503 asked for it", clock.instant());
    limits.afterResult(lane, before);
  }

  /** Another node's operator resumed the destination. */
  void resumedElsewhere() {
    clock.advance(Duration.ofSeconds(1));
    state.endHold("crm", clock.instant());
  }

  void asleep() {
    lane.workTaken();
  }

  @Test
  void aHoldTakenFromTheRowEndsAtTheNextSyncAfterAResumeOnAnotherNode() {
    Instant until = t0.plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
    state.pause("crm", until, t0);
    sync();
    assertThat(lane.heldUntil()).isEqualTo(until);
    assertThat(lane.holdReason()).isEqualTo("asked of another node of the cluster");
    sync();
    assertThat(lane.heldUntil()).as("the row still holds").isEqualTo(until);

    resumedElsewhere();
    asleep();
    sync();
    assertThat(lane.heldUntil()).isEqualTo(Instant.MIN);
    assertThat(lane.holdReason()).isNull();
    assertThat(lane.workWanted()).isTrue();
  }

  @Test
  void itsOwnStoredHoldEndsAtTheNextSyncAfterAResumeOnAnotherNode() {
    Instant until = t0.plus(Duration.ofHours(1)); // nanoseconds: the row keeps milliseconds
    toldToWait(until);
    runAll(store);
    runAll(loop);
    sync();
    assertThat(lane.heldUntil()).as("its own hold, read back cut to ms").isEqualTo(until);

    resumedElsewhere();
    asleep();
    sync();
    assertThat(lane.heldUntil()).isEqualTo(Instant.MIN);
    assertThat(lane.workWanted()).isTrue();
  }

  @Test
  void aSyncThatReadTheRowBeforeItsOwnWriteWasStoredDoesNotEndTheHold() {
    state.pause("crm", t0.plusSeconds(30), t0);
    state.endHold("crm", t0); // an earlier hold, resumed: the row shows 0
    Instant until = t0.plus(Duration.ofHours(1));
    toldToWait(until); // its write is handed to the executor
    startSync(); // and a sync's read after it
    store.pollLast().run(); // the read runs first: it sees 0
    store.poll().run(); // then the write is stored
    loop.pollLast().run(); // the loop learns the write was stored
    loop.poll().run(); // and only then applies the read from before it
    assertThat(lane.heldUntil()).isEqualTo(until);

    sync();
    assertThat(lane.heldUntil()).isEqualTo(until);
    resumedElsewhere();
    sync();
    assertThat(lane.heldUntil()).as("a resume after it still ends it").isEqualTo(Instant.MIN);
  }

  @Test
  void aLongerHoldOfItsOwnNotYetStoredStaysAfterAResumeOnAnotherNode() {
    Instant first = t0.plus(Duration.ofMinutes(10)).truncatedTo(ChronoUnit.MILLIS);
    state.pause("crm", first, t0);
    sync();
    assertThat(lane.heldUntil()).isEqualTo(first);

    resumedElsewhere();
    Instant longer = t0.plus(Duration.ofHours(1));
    toldToWait(longer); // its write not stored yet
    startSync();
    store.pollLast().run(); // the sync reads 0
    runAll(loop);
    assertThat(lane.heldUntil()).isEqualTo(longer);
    assertThat(lane.holdReason()).isEqualTo("http 503 asked for it");

    runAll(store); // now stored: the row holds it for every node
    runAll(loop);
    sync();
    assertThat(lane.heldUntil()).isEqualTo(longer);
    assertThat(state.rows.get("crm").pausedUntil())
        .isEqualTo(longer.truncatedTo(ChronoUnit.MILLIS));
  }

  @Test
  void afterAResumeElsewhereANewerHoldInTheRowHoldsAgain() {
    Instant first = t0.plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
    state.pause("crm", first, t0);
    sync();
    resumedElsewhere();
    Instant next = clock.instant().plusSeconds(30).truncatedTo(ChronoUnit.MILLIS);
    state.pause("crm", next, clock.instant()); // another node was told to wait after the resume
    sync();
    assertThat(lane.heldUntil()).isEqualTo(next);
    assertThat(lane.holdReason()).isEqualTo("asked of another node of the cluster");
  }

  /** The shared table's semantics, as SqlClusterState writes it (milliseconds). */
  static final class InMemoryState implements ClusterState {
    final Map<String, DestinationLimits> rows = new TreeMap<>();

    static Instant ms(Instant t) {
      return Instant.ofEpochMilli(t.toEpochMilli());
    }

    @Override
    public int heartbeat(
        String node, Instant startedAt, Instant now, Instant liveSince, Instant forgetBefore) {
      return 1;
    }

    @Override
    public void leave(String node) {}

    @Override
    public List<DestinationLimits> destinations() {
      return new ArrayList<>(rows.values());
    }

    @Override
    public void openBreaker(String destination, Instant until, Instant failedProbe, Instant now) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Instant claimProbe(String destination, Instant now, Instant probeUntil) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void closeBreaker(String destination, Instant probeUntil, Instant now) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void pause(String destination, Instant until, Instant now) {
      DestinationLimits row = rows.get(destination);
      Instant paused =
          row == null || ms(until).isAfter(row.pausedUntil()) ? ms(until) : row.pausedUntil();
      Instant breaker = row == null ? Instant.EPOCH : row.breakerOpenUntil();
      rows.put(destination, new DestinationLimits(destination, breaker, paused, ms(now)));
    }

    @Override
    public void endHold(String destination, Instant now) {
      DestinationLimits row = rows.get(destination);
      if (row != null) {
        rows.put(
            destination,
            new DestinationLimits(destination, row.breakerOpenUntil(), Instant.EPOCH, ms(now)));
      }
    }
  }
}
