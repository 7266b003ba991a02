package dev.switchboard.pull;

import java.time.Instant;
import java.util.List;

/**
 * What a pulled source is doing, for the admin API, the dashboard and {@code /metrics}: its
 * channels, when it was last heard from, and what it has done since the gateway started.
 *
 * @param state {@code connected} (every channel live), {@code connecting}, {@code failing} (the
 *     last attempt was refused; {@code lastError} says why) or {@code stopped}
 * @param coveredUntil until when every event is known to be stored (null before the first
 *     connection)
 * @param backfilling whether a gap is being filled now
 */
public record PullStatus(
    String source,
    String type,
    String state,
    List<ChannelStatus> channels,
    int topics,
    Instant lastMessageAt,
    Instant coveredUntil,
    boolean backfilling,
    long events,
    long duplicates,
    long heartbeats,
    long reconnects,
    long backfilledEvents,
    long errors,
    String lastError,
    Instant lastErrorAt) {

  /** One channel: its id, its topics' count, since when its socket is open, when it expires. */
  public record ChannelStatus(String id, int topics, Instant connectedSince, Instant expires) {}
}
