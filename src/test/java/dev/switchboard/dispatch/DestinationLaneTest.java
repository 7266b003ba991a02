package dev.switchboard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.QueuedDelivery;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The lane's memory: arrival order, one running delivery per key in event-time order, capacity. */
class DestinationLaneTest {
  final Instant t0 = Instant.parse("2026-10-27T14:30:00Z");
  long seq;

  DestinationLane lane(int capacity) {
    DestinationConfig config =
        new DestinationConfig(
            "d", "http", null, DestinationConfig.Retry.DEFAULT, null, 4, Duration.ofSeconds(5));
    return new DestinationLane(config, null, "test", null, null, capacity, Set.of("ordered"));
  }

  QueuedDelivery d(String id, String route, String key, int eventSecond) {
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
        "{}",
        Map.of());
  }

  @Test
  void unorderedRoutesGoInArrivalOrder() {
    DestinationLane lane = lane(10);
    lane.add(d("a", "plain", "k", 3));
    lane.add(d("b", "plain", "k", 1));
    assertThat(lane.take().id().value()).isEqualTo("a");
    assertThat(lane.take().id().value()).isEqualTo("b");
    assertThat(lane.take()).isNull();
  }

  @Test
  void aKeyRunsOneDeliveryAtATimeInEventTimeOrderWhileOtherKeysGoOn() {
    DestinationLane lane = lane(10);
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
    lane.release(first, false, false);
    assertThat(lane.take().id().value()).isEqualTo("late");
  }

  @Test
  void aRetryKeepsItsKeyUntilItComesBackAndGoesFirst() {
    DestinationLane lane = lane(10);
    QueuedDelivery head = d("head", "ordered", "k", 10);
    lane.add(head);
    lane.add(d("next", "ordered", "k", 20));
    QueuedDelivery running = lane.take();
    lane.release(running, false, true); // retry scheduled: the key waits for it
    assertThat(lane.take()).isNull();
    lane.add(head); // due again, scanned back in
    assertThat(lane.take().id().value()).isEqualTo("head");
  }

  @Test
  void pastItsCapacityTheLaneLeavesWorkInTheStore() {
    DestinationLane lane = lane(2);
    assertThat(lane.add(d("a", "plain", null, 0))).isTrue();
    assertThat(lane.add(d("b", "plain", null, 0))).isTrue();
    assertThat(lane.add(d("c", "plain", null, 0))).isFalse();
    assertThat(lane.overflow).isTrue();
    assertThat(lane.add(d("a", "plain", null, 0))).as("already held").isTrue();
  }

  @Test
  void claimedFromTheStoreEverythingGoesInClaimOrderAndCanBeHandedBack() {
    DestinationLane lane = lane(10);
    lane.claimsFromStore = true; // the claim already kept per-key order
    lane.add(d("k1-a", "ordered", "k1", 10));
    lane.add(d("k2-a", "ordered", "k2", 5));
    lane.add(d("plain", "plain", null, 1));
    assertThat(lane.take().id().value()).isEqualTo("k1-a");
    lane.running++; // as the dispatcher does when it starts the attempt
    assertThat(lane.waiting()).isEqualTo(2);
    assertThat(lane.dropWaiting()).extracting(q -> q.id().value()).containsExactly("k2-a", "plain");
    assertThat(lane.take()).isNull();
    assertThat(lane.known).containsOnlyKeys(new DeliveryId("k1-a"));
  }
}
