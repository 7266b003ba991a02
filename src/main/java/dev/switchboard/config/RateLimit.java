package dev.switchboard.config;

import java.time.Duration;

/** {@code count} permits every {@code per}, written {@code 50/minute} in YAML. */
public record RateLimit(long count, Duration per) {}
