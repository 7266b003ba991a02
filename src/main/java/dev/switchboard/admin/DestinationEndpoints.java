package dev.switchboard.admin;

import dev.switchboard.admin.ApiRouter.Reply;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.dispatch.DeliveryService;
import dev.switchboard.dispatch.DestinationStatus;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.observability.StatsSeries;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/** Destinations with their live state, and pause / resume. */
final class DestinationEndpoints {
  private static final Duration RATE_WINDOW = Duration.ofMinutes(1);

  private final DeliveryService deliveries;
  private final Supplier<Map<String, DestinationConfig>> configs;
  private final StatsSeries stats;

  DestinationEndpoints(
      DeliveryService deliveries,
      Supplier<Map<String, DestinationConfig>> configs,
      StatsSeries stats) {
    this.deliveries = deliveries;
    this.configs = configs;
    this.stats = stats;
  }

  void register(ApiRouter api) {
    api.get(
        "/api/v1/destinations",
        Set.of(),
        r -> {
          List<Views.Obj> items = new ArrayList<>();
          for (DestinationStatus s : deliveries.destinations()) {
            items.add(view(s));
          }
          return Views.obj().with("items", items);
        });
    api.get("/api/v1/destinations/{name}", Set.of(), r -> view(status(r.path("name"))));
    api.post("/api/v1/destinations/{name}/pause", Set.of(), r -> setPaused(r, true));
    api.post("/api/v1/destinations/{name}/resume", Set.of(), r -> setPaused(r, false));
  }

  private Object setPaused(ApiRequest r, boolean paused) {
    String name = r.path("name");
    if (!deliveries.hasDestination(name)) {
      throw Problem.UNKNOWN_DESTINATION.with("no destination of this name is configured");
    }
    if (paused) {
      deliveries.pause(name, r.actor());
    } else {
      deliveries.resume(name, r.actor());
    }
    return Reply.noContent();
  }

  private DestinationStatus status(String name) {
    return deliveries.destinations().stream()
        .filter(s -> s.name().equals(name))
        .findFirst()
        .orElseThrow(
            () -> Problem.UNKNOWN_DESTINATION.with("no destination of this name is configured"));
  }

  private Views.Obj view(DestinationStatus s) {
    Map<DeliveryState, Long> open = deliveries.openCounts(s.name());
    long depth = QueueSampler.depth(open);
    DestinationConfig config = configs.get().get(s.name());
    Views.Obj rateLimit =
        config == null || config.rateLimit() == null
            ? null
            : Views.obj()
                .with("count", config.rateLimit().count())
                .with("perSeconds", config.rateLimit().per().toSeconds());
    double rate = stats.attemptsPerSecond(s.name(), RATE_WINDOW);
    return Views.obj()
        .with("name", s.name())
        .with("type", s.type())
        .with("available", s.available())
        .with("unavailableReason", s.unavailableReason())
        .with("paused", s.paused())
        .with("pausedUntil", s.pausedUntil())
        .with(
            "hold",
            s.pausedUntil() == null
                ? null
                : Views.obj().with("until", s.pausedUntil()).with("reason", s.holdReason()))
        .with("breaker", s.breaker())
        .with("inFlight", s.running())
        .with("queueDepth", depth)
        .with("deadLetters", open.get(DeliveryState.DEAD))
        .with(
            "queue",
            Views.obj()
                .with("pending", open.get(DeliveryState.PENDING))
                .with("inFlight", open.get(DeliveryState.IN_FLIGHT))
                .with("retryScheduled", open.get(DeliveryState.RETRY_SCHEDULED))
                .with("dead", open.get(DeliveryState.DEAD)))
        .with("attemptsPerSecond", Math.round(rate * 100) / 100.0)
        .with("rateLimit", rateLimit)
        .with("concurrency", config == null ? null : config.concurrency())
        .with("lastError", s.lastError())
        .with("lastErrorAt", s.lastErrorAt());
  }
}
