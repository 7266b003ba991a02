package dev.switchboard.dispatch;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.RateLimit;
import dev.switchboard.config.RouteConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.expr.Expression;
import dev.switchboard.route.RoutePlan;
import dev.switchboard.store.QueuedDelivery;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * What the unit tests of the delivery core build their lanes, routes and deliveries from: one
 * destination {@code crm}, a route {@code to-crm} and a per-key route {@code ordered} to it.
 */
final class CoreFixtures {
  static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
  static final String PLAIN = "to-crm";
  static final String ORDERED = "ordered";

  private CoreFixtures() {}

  /** A lane of destination {@code crm}, with what a test changes; the rest as configured. */
  static final class Lane {
    int concurrency = 2;
    RateLimit rate;
    int rateTokens = 1;
    DestinationConfig.Retry retry = DestinationConfig.Retry.DEFAULT;
    DestinationConfig.Breaker breaker = DestinationConfig.Breaker.DEFAULT;
    Duration timeout = Duration.ofSeconds(5);
    int capacity = 100;
    Set<String> perKey = Set.of(ORDERED);
    boolean orderedByStore;
    Destination connector = new Connector(1);
    Clock clock;

    Lane(Clock clock) {
      this.clock = clock;
    }

    DestinationConfig config() {
      return new DestinationConfig("crm", "http", null, retry, rate, concurrency, timeout, breaker);
    }

    DestinationLane build() {
      DestinationConfig config = config();
      return new DestinationLane(
          config,
          connector,
          connector == null ? "no connector" : null,
          RateBuckets.of(config, 1, clock, rateTokens),
          new RetryPolicy(config.retry(), new SplittableRandom(7)),
          new LaneMemory(capacity, orderedByStore, perKey));
    }
  }

  static RouteConfig route(String name, RouteConfig.Ordering ordering, RouteConfig.Stale stale) {
    return route(name, ordering, stale, null, null);
  }

  static RouteConfig route(
      String name,
      RouteConfig.Ordering ordering,
      RouteConfig.Stale stale,
      String transform,
      RouteConfig.Enrich enrich) {
    return new RouteConfig(
        name,
        "calls",
        null,
        transform == null ? null : Expression.compile(transform),
        "crm",
        ordering,
        stale,
        RouteConfig.OnDead.CONTINUE,
        enrich);
  }

  /** {@code to-crm} (arrival order) and {@code ordered} (per key, stale events skipped). */
  static RouteTable table() {
    return new RouteTable(
        Map.of(
            PLAIN,
            route(PLAIN, RouteConfig.Ordering.NONE, RouteConfig.Stale.DELIVER),
            ORDERED,
            route(ORDERED, RouteConfig.Ordering.PER_KEY, RouteConfig.Stale.SKIP)),
        Map.of());
  }

  static RoutePlan plan(String route) {
    return table().plan(route);
  }

  /** A pending delivery to {@code crm}, due since {@link #T0}. */
  static QueuedDelivery pending(String id, String route, String key, int eventSecond, long seq) {
    return delivery(id, route, key, eventSecond, seq, DeliveryState.PENDING, T0, 0);
  }

  static QueuedDelivery delivery(
      String id,
      String route,
      String key,
      int eventSecond,
      long seq,
      DeliveryState state,
      Instant nextAttemptAt,
      int attempts) {
    return new QueuedDelivery(
        new DeliveryId(id),
        new EventId("evt_" + id),
        "calls",
        route,
        "crm",
        key,
        T0.plusSeconds(eventSecond),
        T0,
        seq,
        state,
        attempts,
        attempts == 0 ? null : T0,
        nextAttemptAt,
        "{\"interactionId\":\"" + id + "\"}",
        Map.of());
  }

  /** A connector that answers from a script (then 200), or throws, and records what it sent. */
  static final class Connector implements Destination {
    final int batchSize;
    final Deque<DeliveryResult> answers = new ArrayDeque<>();
    final List<OutboundDelivery> sent = Collections.synchronizedList(new ArrayList<>());
    final List<Integer> requests = Collections.synchronizedList(new ArrayList<>());
    volatile RuntimeException failure;

    Connector(int batchSize) {
      this.batchSize = batchSize;
    }

    Connector answer(DeliveryResult... results) {
      answers.addAll(List.of(results));
      return this;
    }

    @Override
    public DeliveryResult send(OutboundDelivery delivery) {
      requests.add(1);
      return answerFor(delivery);
    }

    @Override
    public List<DeliveryResult> sendBatch(List<OutboundDelivery> deliveries) {
      requests.add(deliveries.size());
      return deliveries.stream().map(this::answerFor).toList();
    }

    private synchronized DeliveryResult answerFor(OutboundDelivery delivery) {
      sent.add(delivery);
      if (failure != null) {
        throw failure;
      }
      DeliveryResult next = answers.poll();
      return next == null ? new DeliveryResult.Delivered(200, "ok") : next;
    }

    @Override
    public int batchSize() {
      return batchSize;
    }

    @Override
    public String name() {
      return "crm";
    }
  }
}
