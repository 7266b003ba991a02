package dev.switchboard.admin;

import dev.switchboard.observability.StatsSeries;
import dev.switchboard.observability.StatsSeries.Latency;
import dev.switchboard.observability.StatsSeries.Point;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The stats time series for the dashboard's charts: the last {@code window}, step by step. */
final class StatsEndpoint {
  private static final Set<String> STORED = Set.of("accepted", "duplicate", "quarantined");
  private static final Duration MAX_WINDOW = StatsSeries.STEP.multipliedBy(StatsSeries.SLOTS);

  private final StatsSeries stats;
  private final Runnable sampleQueues;

  StatsEndpoint(StatsSeries stats, Runnable sampleQueues) {
    this.stats = stats;
    this.sampleQueues = sampleQueues;
  }

  void register(ApiRouter api) {
    api.get(
        "/api/v1/stats",
        Set.of("window"),
        r -> {
          Duration window = r.duration("window", Duration.ofMinutes(15), MAX_WINDOW);
          if (!stats.queueSampled()) {
            sampleQueues.run();
          }
          List<Views.Obj> points = new ArrayList<>();
          for (Point p : stats.points(window)) {
            points.add(view(p));
          }
          return Views.obj()
              .with("stepSeconds", StatsSeries.STEP.toSeconds())
              .with("points", points);
        });
  }

  private static Views.Obj view(Point p) {
    long accepted = p.ingest().getOrDefault("accepted", 0L);
    long duplicate = p.ingest().getOrDefault("duplicate", 0L);
    long quarantined = p.ingest().getOrDefault("quarantined", 0L);
    Map<String, Long> rejected = new TreeMap<>();
    p.ingest()
        .forEach(
            (k, v) -> {
              if (!STORED.contains(k)) {
                rejected.put(k, v);
              }
            });
    Map<String, Views.Obj> queues = new TreeMap<>();
    p.queues()
        .forEach(
            (name, q) ->
                queues.put(
                    name,
                    Views.obj().with("depth", q.depth()).with("deadLetters", q.deadLetters())));
    return Views.obj()
        .with("start", p.start())
        .with(
            "ingest",
            Views.obj()
                .with("accepted", accepted)
                .with("duplicate", duplicate)
                .with("quarantined", quarantined)
                .with("rejected", rejected.values().stream().mapToLong(Long::longValue).sum())
                .with("rejectedByReason", rejected))
        .with("ackMs", latency(p.ack()))
        .with("deliveries", p.deliveries())
        .with("endToEndMs", latency(p.endToEnd()))
        .with("queues", queues);
  }

  private static Views.Obj latency(Latency l) {
    return l == null
        ? null
        : Views.obj()
            .with("count", l.count())
            .with("p50", round(l.p50Millis()))
            .with("p99", round(l.p99Millis()));
  }

  private static double round(double millis) {
    return Math.round(millis * 100) / 100.0;
  }
}
