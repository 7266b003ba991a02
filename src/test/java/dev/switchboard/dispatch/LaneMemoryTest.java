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
  void theLanesTogetherHoldNoMoreBytesThanTheirBudgetButAnEmptyLaneAlwaysTakesOne() {
    String body = "x".repeat(1_000);
    long each = d("probe", "plain", null, 0, body).heldBytes();
    LaneBytes budget = new LaneBytes(3 * each);
    LaneMemory first = new LaneMemory(100, budget, false, Set.of());
    LaneMemory second = new LaneMemory(100, budget, false, Set.of());
    assertThat(first.add(d("a", "plain", null, 1, body))).isTrue();
    assertThat(first.add(d("b", "plain", null, 2, body))).isTrue();
    assertThat(first.add(d("c", "plain", null, 3, body))).isTrue();
    assertThat(first.add(d("d", "plain", null, 4, body))).as("over the bytes").isFalse();
    assertThat(first.overflow()).isTrue();
    assertThat(first.wantsRefill(first.size())).as("the budget is full").isFalse();
    // the other lane is empty: it takes one even though the budget is spent
    assertThat(second.add(d("e", "plain", null, 5, body.repeat(10)))).isTrue();
    assertThat(second.add(d("f", "plain", null, 6, body))).isFalse();
    assertThat(budget.used())
        .isEqualTo(3 * each + d("e", "plain", null, 5, body.repeat(10)).heldBytes());
    // what finishes or is dropped gives its bytes back
    first.release(first.take(), false);
    first.release(first.take(), false);
    assertThat(first.dropWaiting()).hasSize(1);
    second.release(second.take(), false);
    assertThat(budget.used()).isZero();
    assertThat(first.wantsRefill(first.size())).isTrue();
    assertThat(first.add(d("d", "plain", null, 4, body))).isTrue();
  }
}
