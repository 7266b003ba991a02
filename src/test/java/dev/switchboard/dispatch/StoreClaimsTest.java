package dev.switchboard.dispatch;

import static dev.switchboard.dispatch.CoreFixtures.PLAIN;
import static dev.switchboard.dispatch.CoreFixtures.T0;
import static dev.switchboard.dispatch.CoreFixtures.pending;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.RateLimit;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.domain.DeliveryId;
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
 * The cluster's intake against a shared store in memory: a lane claims what it can start now and
 * next, only when it wants work and may send, and hands back what it cannot keep. The store's
 * answers and the loop's tasks run when the test says.
 */
class StoreClaimsTest {
  final MutableClock clock = new MutableClock(T0);
  final FakeDeliveryQueue queue = new FakeDeliveryQueue(false);
  final CoreFixtures.Lane fixture = new CoreFixtures.Lane(clock);
  final Leases leases = new Leases(Duration.ofSeconds(1));

  /** Tasks posted to the loop, not run yet. */
  final Deque<Runnable> loop = new ArrayDeque<>();

  boolean stopping;
  DestinationLane lane;
  StoreClaims intake;

  void start(int scanBatch) {
    fixture.orderedByStore = true;
    lane = fixture.build();
    intake =
        new StoreClaims(
            queue,
            clock,
            scanBatch,
            loop::add,
            () -> Map.of("crm", lane),
            CoreFixtures::table,
            leases,
            () -> stopping);
    intake.start();
  }

  void runLoop() {
    while (!loop.isEmpty()) {
      loop.poll().run();
    }
  }

  QueuedDelivery[] storePending(int n) {
    QueuedDelivery[] all = new QueuedDelivery[n];
    for (int i = 0; i < n; i++) {
      all[i] = pending("p" + (i + 1), PLAIN, null, 0, i + 1);
    }
    queue.add(all);
    return all;
  }

  long fill() {
    return intake.fill(lane, clock.instant(), DestinationLane.ProbeGate.ALONE);
  }

  @Test
  void aLaneThatWantsWorkClaimsWhatItsRoomAllows() {
    fixture.concurrency = 2;
    start(100);
    storePending(10);
    assertThat(fill()).isEqualTo(Long.MAX_VALUE);
    FakeDeliveryQueue.ClaimDue call = queue.claimsDue.last().args();
    assertThat(call.limit()).as("two rounds of two slots").isEqualTo(4);
    assertThat(call.destination()).isEqualTo("crm");
    assertThat(call.leaseUntil()).isEqualTo(T0.plus(leases.termFor(lane.config())));
    runLoop();
    assertThat(lane.memory().size()).isEqualTo(4);
    assertThat(lane.waiting()).isEqualTo(4);
    assertThat(leases.size()).isEqualTo(4);
    assertThat(leases.token(new DeliveryId("p1"))).isEqualTo(call.token());
    assertThat(lane.workWanted()).as("a full claim: there may be more").isTrue();

    fill();
    assertThat(queue.claimsDue.count()).as("no room left").isEqualTo(1);
  }

  @Test
  void aLaneThatWantsNoWorkOrIsNotOpenClaimsNothing() {
    start(100);
    storePending(3);
    lane.workTaken();
    assertThat(fill()).isEqualTo(Long.MAX_VALUE);
    lane.wantWork();
    lane.pause();
    assertThat(fill()).isEqualTo(Long.MAX_VALUE);
    lane.resume(clock.instant());
    lane.hold(T0.plusSeconds(30), "http 429 asked for 30s", clock.instant());
    assertThat(fill()).isEqualTo(Long.MAX_VALUE);
    assertThat(queue.claimsDue.count()).isZero();

    clock.advance(Duration.ofSeconds(30));
    fill();
    assertThat(queue.claimsDue.count()).isEqualTo(1);
  }

  @Test
  void nothingIsClaimedWhileTheBreakerIsOpen() {
    fixture.breaker = new DestinationConfig.Breaker(1, Duration.ofSeconds(30));
    start(100);
    storePending(3);
    lane.memory().add(pending("x", PLAIN, null, 0, 99));
    QueuedDelivery x = lane.startRequest().get(0);
    lane.answered(new DeliveryResult.RetryLater("http 503", 503, null, null), clock.instant());
    lane.release(x, false);
    assertThat(fill()).isEqualTo(Long.MAX_VALUE);
    assertThat(queue.claimsDue.count()).isZero();
    assertThat(lane.workWanted()).as("still wanted for when it closes").isTrue();

    clock.advance(Duration.ofSeconds(30));
    fill();
    assertThat(queue.claimsDue.last().args().limit()).as("the probe").isEqualTo(1);
  }

  @Test
  void nothingIsClaimedWhileTheRateIsSpentAndTheWaitIsReturned() {
    fixture.rate = new RateLimit(1, Duration.ofSeconds(2));
    fixture.rateTokens = 0;
    start(100);
    storePending(3);
    long wait = fill();
    assertThat(wait).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(2).toNanos());
    assertThat(queue.claimsDue.count()).isZero();
    clock.advance(Duration.ofSeconds(2));
    assertThat(fill()).isEqualTo(Long.MAX_VALUE);
    assertThat(queue.claimsDue.last().args().limit()).as("one round under a rate").isEqualTo(2);
  }

  @Test
  void oneClaimAtATimePerLane() {
    start(100);
    storePending(3);
    queue.claimsDue.thenHold();
    fill();
    lane.wantWork();
    fill();
    assertThat(queue.claimsDue.count()).isEqualTo(1);
    assertThat(intake.claimsOut()).isEqualTo(1);
    queue.claimsDue.last().commit();
    assertThat(intake.claimsOut()).isZero();
    runLoop();
    assertThat(lane.memory().size()).isEqualTo(3);
  }

  @Test
  void aClaimAsksNoMoreThanMemoryHoldsAndRowsThatNoLongerFitAreHandedBack() {
    fixture.capacity = 2;
    start(100);
    QueuedDelivery[] all = storePending(3);
    queue.claimsDue.thenHold();
    fill(); // four slots, but room in memory for two
    FakeDeliveryQueue.Write<FakeDeliveryQueue.ClaimDue, List<QueuedDelivery>> claim =
        queue.claimsDue.last();
    // while the claim is out, memory fills up (another path took one in)
    lane.memory().add(all[2]);
    claim.commit();
    assertThat(claim.future().join()).hasSize(2);
    runLoop();
    assertThat(lane.memory().size()).isEqualTo(2);
    FakeDeliveryQueue.Unclaim back = queue.unclaims.last().args();
    assertThat(back.leases()).containsExactly(Map.entry(all[1].id(), claim.args().token()));
    assertThat(queue.state(all[1].id())).isEqualTo(DeliveryState.PENDING);
    assertThat(leases.token(all[1].id())).as("dropped once written").isNull();
    assertThat(leases.token(all[0].id())).isEqualTo(claim.args().token());
  }

  @Test
  void returnWaitingHandsBackWhatWaitsWithTheLeasesTokens() {
    start(100);
    QueuedDelivery[] all = storePending(3);
    fill();
    runLoop();
    String token = queue.claimsDue.last().args().token();
    QueuedDelivery running = lane.startRequest().get(0);
    queue.unclaims.thenHold();

    intake.returnWaiting(lane);
    FakeDeliveryQueue.Write<FakeDeliveryQueue.Unclaim, Integer> unclaim = queue.unclaims.last();
    assertThat(unclaim.args().leases())
        .containsOnly(Map.entry(all[1].id(), token), Map.entry(all[2].id(), token));
    assertThat(running.id()).isEqualTo(all[0].id());
    assertThat(lane.memory().size()).as("the running one stays").isEqualTo(1);
    assertThat(leases.token(all[1].id())).as("until the store has them").isEqualTo(token);
    unclaim.commit();
    assertThat(leases.token(all[1].id())).isNull();
    assertThat(leases.token(all[0].id())).isEqualTo(token);
    assertThat(queue.state(all[1].id())).isEqualTo(DeliveryState.PENDING);
  }

  @Test
  void aDeliveryWhoseLeaseIsGoneIsHandedBackNotAttempted() {
    start(100);
    QueuedDelivery[] all = storePending(2);
    fill();
    runLoop();
    List<QueuedDelivery> batch = List.of(lane.startRequest().get(0), lane.startRequest().get(0));
    assertThat(batch).extracting(QueuedDelivery::id).containsExactly(all[0].id(), all[1].id());
    leases.drop(all[0].id()); // e.g. its outcome was given up on
    List<QueuedDelivery> open = new ArrayList<>(batch);
    List<Claimed> claimed = intake.claim(lane, batch, open);
    assertThat(claimed)
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.d()).isEqualTo(batch.get(1));
              assertThat(c.token()).isEqualTo(leases.token(all[1].id()));
              assertThat(c.unconfirmed()).as("claimed before it came to memory").isNull();
              assertThat(c.plan().name()).isEqualTo(PLAIN);
            });
    assertThat(open).containsExactly(batch.get(1));
    runLoop();
    assertThat(lane.memory().holds(all[0].id())).isFalse();
  }

  @Test
  void newWorkAnywhereWakesItsLane() {
    start(100);
    lane.workTaken();
    queue.wake("crm");
    runLoop();
    assertThat(lane.workWanted()).isTrue();
    lane.workTaken();
    queue.commit(List.of(pending("n", PLAIN, null, 0, 1)));
    runLoop();
    assertThat(lane.workWanted()).isTrue();
    assertThat(lane.memory().size()).as("woken, not handed over").isZero();
  }
}
