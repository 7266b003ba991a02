package dev.switchboard.dispatch;

import dev.switchboard.config.RouteConfig;
import dev.switchboard.destination.Enricher;
import dev.switchboard.route.RoutePlan;
import dev.switchboard.store.QueuedDelivery;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The routes and enrichers of one configuration, as the dispatcher reads them: replaced whole by a
 * reload, read from any thread.
 */
record RouteTable(
    Map<String, RouteConfig> routes,
    Map<String, RoutePlan> plans,
    Map<String, Enricher> enrichers) {
  RouteTable {
    routes = Map.copyOf(routes);
    plans = Map.copyOf(plans);
    enrichers = Map.copyOf(enrichers);
  }

  RouteTable(Map<String, RouteConfig> routes, Map<String, Enricher> enrichers) {
    this(routes, plansOf(routes), enrichers);
  }

  private static Map<String, RoutePlan> plansOf(Map<String, RouteConfig> routes) {
    Map<String, RoutePlan> plans = new java.util.HashMap<>();
    routes.forEach((name, route) -> plans.put(name, new RoutePlan(route)));
    return plans;
  }

  /** The route's compiled plan, or null when it is no longer configured. */
  RoutePlan plan(String name) {
    return plans.get(name);
  }

  /** The route, or null when it is no longer configured. */
  RouteConfig route(String name) {
    return routes.get(name);
  }

  Enricher enricher(String name) {
    return enrichers.get(name);
  }

  /** A route whose enricher was not built waits for a configuration that has it. */
  boolean dispatchable(QueuedDelivery d) {
    RouteConfig route = routes.get(d.route());
    return route == null || route.enrich() == null || enrichers.containsKey(route.enrich().using());
  }

  /** The routes to {@code destination} that keep per-key order. */
  Set<String> perKeyRoutes(String destination) {
    Set<String> perKey = new HashSet<>();
    for (RouteConfig route : routes.values()) {
      if (route.to().equals(destination) && route.ordering() == RouteConfig.Ordering.PER_KEY) {
        perKey.add(route.name());
      }
    }
    return perKey;
  }

  /**
   * The longest a route to {@code destination} holds its deliveries after receipt ({@code delay} or
   * {@code reorder_window}); zero when none does, and the dispatcher need not look for deliveries
   * that came due.
   */
  Duration longestHold(String destination) {
    Duration longest = Duration.ZERO;
    for (RouteConfig r : routes.values()) {
      if (r.to().equals(destination) && r.holdAfterReceipt().compareTo(longest) > 0) {
        longest = r.holdAfterReceipt();
      }
    }
    return longest;
  }

  /** The routes to {@code destination} whose dead letters block their key. */
  Set<String> blockingRoutes(String destination) {
    Set<String> blocking = new HashSet<>();
    for (RouteConfig r : routes.values()) {
      if (r.to().equals(destination) && r.onDead() == RouteConfig.OnDead.BLOCK) {
        blocking.add(r.name());
      }
    }
    return blocking;
  }

  /** The routes to {@code destination} waiting for a configuration that has their enricher. */
  Set<String> heldRoutes(String destination) {
    Set<String> held = new HashSet<>();
    for (RouteConfig r : routes.values()) {
      if (r.to().equals(destination)
          && r.enrich() != null
          && !enrichers.containsKey(r.enrich().using())) {
        held.add(r.name());
      }
    }
    return held;
  }
}
