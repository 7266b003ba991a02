package dev.switchboard.dispatch;

import dev.switchboard.config.RouteConfig;
import dev.switchboard.route.RoutePlan;
import dev.switchboard.store.QueuedDelivery;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * A delivery this process holds the lease of, for one attempt; {@code plan} is null when its route
 * is no longer configured; {@code unconfirmed} is the claim's write when the attempt did not wait
 * for it (single node), else null.
 */
record Claimed(
    QueuedDelivery d,
    RoutePlan plan,
    String token,
    Instant claimedAt,
    CompletableFuture<Boolean> unconfirmed) {

  /** The route's configuration, or null when it is no longer configured. */
  RouteConfig route() {
    return plan == null ? null : plan.route();
  }
}
