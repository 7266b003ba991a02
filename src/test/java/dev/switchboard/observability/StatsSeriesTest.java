package dev.switchboard.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.switchboard.observability.StatsSeries.Point;
import dev.switchboard.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatsSeriesTest {
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:00Z"));
  final StatsSeries stats = new StatsSeries(clock);

  @Test
  void percentilesComeBackWithinTenPercent() {
    for (int ms = 1; ms <= 1000; ms++) {
      stats.ackLatency(Duration.ofMillis(ms).toNanos());
    }
    StatsSeries.Latency ack = stats.points(Duration.ofSeconds(10)).get(0).ack();
    assertThat(ack.count()).isEqualTo(1000);
    assertThat(ack.p50Millis()).isCloseTo(500, within(50.0));
    assertThat(ack.p99Millis()).isCloseTo(990, within(99.0));
  }

  @Test
  void eachStepCountsItsOwnFiguresOldestFirst() {
    stats.ingest("accepted");
    stats.ingest("accepted");
    stats.ingest("signature_rejected");
    stats.delivery("crm", "delivered");
    stats.queue("crm", 4, 1);
    clock.advance(Duration.ofSeconds(10));
    stats.ingest("accepted");
    stats.endToEnd(Duration.ofMillis(20));
    List<Point> points = stats.points(Duration.ofSeconds(30));
    assertThat(points)
        .extracting(Point::start)
        .containsExactly(
            Instant.parse("2026-10-27T14:29:50Z"),
            Instant.parse("2026-10-27T14:30:00Z"),
            Instant.parse("2026-10-27T14:30:10Z"));
    assertThat(points.get(0).ingest()).isEmpty();
    assertThat(points.get(1).ingest())
        .containsEntry("accepted", 2L)
        .containsEntry("signature_rejected", 1L);
    assertThat(points.get(1).deliveries()).containsKey("crm");
    assertThat(points.get(1).queues().get("crm")).isEqualTo(new StatsSeries.Queue(4, 1));
    assertThat(points.get(1).endToEnd()).isNull();
    assertThat(points.get(2).ingest()).containsEntry("accepted", 1L);
    assertThat(points.get(2).endToEnd().count()).isEqualTo(1);
    assertThat(stats.queueSampled()).isFalse();
  }

  @Test
  void anHourLaterASlotIsRecycledAndOldFiguresAreGone() {
    stats.ingest("accepted");
    clock.advance(StatsSeries.STEP.multipliedBy(StatsSeries.SLOTS));
    stats.ingest("duplicate");
    List<Point> hour = stats.points(Duration.ofHours(1));
    assertThat(hour).hasSize(StatsSeries.SLOTS);
    assertThat(hour.stream().mapToLong(p -> p.ingest().getOrDefault("accepted", 0L)).sum())
        .isZero();
    assertThat(hour.get(hour.size() - 1).ingest()).containsEntry("duplicate", 1L);
    // a late figure for a step that has left the ring is dropped, not written over the new one
    clock.advance(StatsSeries.STEP.multipliedBy(StatsSeries.SLOTS).negated());
    stats.ingest("late");
    clock.advance(StatsSeries.STEP.multipliedBy(StatsSeries.SLOTS));
    assertThat(stats.points(Duration.ofSeconds(10)).get(0).ingest()).containsOnlyKeys("duplicate");
  }

  @Test
  void attemptsPerSecondCountsDeliveredRetriedAndDeadOverTheWindow() {
    clock.set(Instant.parse("2026-10-27T14:30:09.999Z"));
    for (int i = 0; i < 6; i++) {
      for (int n = 0; n < 10; n++) {
        stats.delivery("crm", n % 5 == 0 ? "retry" : "delivered");
      }
      stats.delivery("crm", "skipped"); // no attempt
      clock.advance(Duration.ofSeconds(10));
    }
    clock.advance(Duration.ofSeconds(-10));
    assertThat(stats.attemptsPerSecond("crm", Duration.ofMinutes(1))).isCloseTo(1.0, within(0.01));
    assertThat(stats.attemptsPerSecond("other", Duration.ofMinutes(1))).isZero();
  }
}
