package dev.switchboard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.QueuedDelivery;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The lane's memory: arrival order, one running delivery per key in event-time order, capacity. */
class LaneMemoryTest {
  final Instant t0 = Instant.parse("2026-10-27T14:30:00Z");
  long seq;

  LaneMemory lane(int capacity) {
    return new LaneMemory(capacity, false, Set.of("ordered"));
  }

  QueuedDelivery d(String id, String route, String key, int eventSecond) {
    return d(id, route, key, eventSecond, "{}");
  }

  QueuedDelivery d(String id, String route, String key, int eventSecond, String payload) {
    return new QueuedDelivery(
        new DeliveryId(id),
        new EventId("evt_" + id),
        "src",
        route,
        "d",
        key,
        t0.plusSeconds(eventSecond),
        t0,
        ++seq,
        DeliveryState.PENDING,
        0,
        null,
        t0,
        payload,
        Map.of());
  }

  @Test
  void unorderedRoutesGoInArrivalOrder() {
    LaneMemory lane = lane(10);
    lane.add(d("a", "plain", "k", 3));
    lane.add(d("b", "plain", "k", 1));
    assertThat(lane.take().id().value()).isEqualTo("a");
    assertThat(lane.take().id().value()).isEqualTo("b");
    assertThat(lane.take()).isNull();
  }

  @Test
  void aKeyRunsOneDeliveryAtATimeInEventTimeOrderWhileOtherKeysGoOn() {
    LaneMemory lane = lane(10);
    QueuedDelivery late = d("late", "ordered", "k1", 30);
    QueuedDelivery early = d("early", "ordered", "k1", 10);
    QueuedDelivery other = d("other", "ordered", "k2", 20);
    lane.add(late);
    lane.add(early);
    lane.add(other);
    QueuedDelivery first = lane.take();
    QueuedDelivery second = lane.take();
    assertThat(first.id().value()).isEqualTo("early");
    assertThat(second.id().value()).isEqualTo("other");
    assertThat(lane.take()).as("k1 is busy with early").isNull();
    lane.release(first, false);
    assertThat(lane.take().id().value()).isEqualTo("late");
  }

  @Test
  void aRetryKeepsItsKeyUntilItComesBackAndGoesFirst() {
    LaneMemory lane = lane(10);
    QueuedDelivery head = d("head", "ordered", "k", 10);
    lane.add(head);
    lane.add(d("next", "ordered", "k", 20));
    QueuedDelivery running = lane.take();
    lane.release(running, true); // retry scheduled: the key waits for it
    assertThat(lane.take()).isNull();
    lane.add(head); // due again, scanned back in
    assertThat(lane.take().id().value()).isEqualTo("head");
  }

  @Test
  void pastItsCapacityTheLaneLeavesWorkInTheStore() {
    LaneMemory lane = lane(2);
    assertThat(lane.add(d("a", "plain", null, 0))).isTrue();
    assertThat(lane.add(d("b", "plain", null, 0))).isTrue();
    assertThat(lane.add(d("c", "plain", null, 0))).isFalse();
    assertThat(lane.overflow()).isTrue();
    assertThat(lane.add(d("a", "plain", null, 0))).as("already held").isTrue();
  }

  @Test
  void claimedFromTheStoreEverythingGoesInClaimOrderAndCanBeHandedBack() {
    // the claim already kept per-key order
    LaneMemory lane = new LaneMemory(10, true, Set.of("ordered"));
    lane.add(d("k1-a", "ordered", "k1", 10));
    lane.add(d("k2-a", "ordered", "k2", 5));
    lane.add(d("plain", "plain", null, 1));
    assertThat(lane.take().id().value()).isEqualTo("k1-a");
    assertThat(lane.size()).as("one running, two waiting").isEqualTo(3);
    assertThat(lane.dropWaiting()).extracting(q -> q.id().value()).containsExactly("k2-a", "plain");
    assertThat(lane.take()).isNull();
    assertThat(lane.size()).isEqualTo(1);
    assertThat(lane.holds(new DeliveryId("k1-a"))).isTrue();
  }

  @Test
  void eachLaneHoldsNoMoreThanItsShareOfTheBytesButAnEmptyLaneAlwaysTakesOne() {
    String body = "x".repeat(1_000);
    long each = d("probe", "plain", null, 0, body).heldBytes();
    LaneBytes budget = new LaneBytes(6 * each);
    budget.shareAmong(2);
    LaneMemory first = new LaneMemory(100, budget, false, Set.of());
    LaneMemory second = new LaneMemory(100, budget, false, Set.of());
    assertThat(first.rowsThatFit(2_000)).as("nothing seen yet: a guess").isPositive();
    assertThat(first.add(d("a", "plain", null, 1, body))).isTrue();
    assertThat(first.add(d("b", "plain", null, 2, body))).isTrue();
    assertThat(first.add(d("c", "plain", null, 3, body))).isTrue();
    assertThat(first.add(d("d", "plain", null, 4, body))).as("over its share").isFalse();
    assertThat(first.overflow()).isTrue();
    assertThat(first.rowsThatFit(2_000)).as("no bytes left").isZero();
    assertThat(first.wantsRefill(first.size())).as("its share is full").isFalse();
    // the first lane's full share takes nothing from the second's
    assertThat(second.add(d("e", "plain", null, 5, body))).isTrue();
    assertThat(second.add(d("f", "plain", null, 6, body))).isTrue();
    assertThat(second.rowsThatFit(2_000)).as("room for one more of this weight").isEqualTo(1);
    // an empty lane takes one however large
    LaneMemory third = new LaneMemory(100, budget, false, Set.of());
    QueuedDelivery huge = d("g", "plain", null, 7, body.repeat(10));
    assertThat(third.add(huge)).isTrue();
    assertThat(third.add(d("h", "plain", null, 8, body))).isFalse();
    assertThat(budget.used()).isEqualTo(5 * each + huge.heldBytes());
    // what finishes or is dropped gives its bytes back
    first.release(first.take(), false);
    first.release(first.take(), false);
    assertThat(first.wantsRefill(first.size())).as("below half its share").isTrue();
    assertThat(first.dropWaiting()).hasSize(1);
    second.release(second.take(), false);
    second.release(second.take(), false);
    third.release(third.take(), false);
    assertThat(budget.used()).isZero();
    assertThat(first.rowsThatFit(2_000)).as("its share over the average seen").isEqualTo(3);
  }

  @Test
  void aScanDoesNotClearWhatWasLeftInTheStoreAfterItStarted() {
    LaneMemory lane = lane(10);
    lane.behind();
    long atScanStart = lane.behindMarks();
    lane.behind(); // a hand-off left work in the store while the scan ran
    lane.caughtUp(atScanStart);
    assertThat(lane.overflow()).as("still behind: the scan may not have seen it").isTrue();
    lane.caughtUp(lane.behindMarks());
    assertThat(lane.overflow()).isFalse();
  }
}
