package dev.switchboard.store;

import java.time.Duration;
import java.time.Instant;

/**
 * One try of a delivery, as the attempt history shows it.
 *
 * @param number 1 for the first attempt of a round (rounds restart on replay)
 * @param status the HTTP status (or the connector's equivalent), 0 when there was no answer
 * @param outcome delivered, retry, dead
 * @param excerpt a bounded excerpt of the answer, or null
 */
public record AttemptRecord(
    int number,
    Instant startedAt,
    Duration duration,
    int status,
    String outcome,
    String error,
    String excerpt) {}
