package dev.switchboard.dispatch;

import dev.switchboard.config.RouteConfig;
import dev.switchboard.store.QueuedDelivery;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * A delivery this process holds the lease of, for one attempt; {@code route} is null when the route
 * is no longer configured; {@code unconfirmed} is the claim's write when the attempt did not wait
 * for it (single node), else null.
 */
record Claimed(
    QueuedDelivery d,
    RouteConfig route,
    String token,
    Instant claimedAt,
    CompletableFuture<Boolean> unconfirmed) {}
