package dev.switchboard.dispatch;

import java.time.Instant;

/** A destination's state as operators see it (admin API, dashboard, CLI). */
public record DestinationStatus(
    String name,
    String type,
    boolean available,
    String unavailableReason,
    boolean paused,
    Instant pausedUntil,
    String holdReason,
    String breaker,
    int running,
    int waitingInMemory,
    boolean moreInStore,
    String lastError,
    Instant lastErrorAt) {}
