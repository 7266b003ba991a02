package dev.switchboard.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * A source the gateway pulls from instead of waiting for webhooks: {@code type:
 * genesys-notifications}, the Genesys Cloud Notification API (docs/sources.md, "Genesys Cloud
 * notifications"). Its events go through the same durable ingest as {@code POST /hooks/{name}}.
 *
 * @param loginUrl where tokens are asked for ({@code https://login.<region>}), no trailing slash
 * @param apiUrl the Platform API ({@code https://api.<region>}), no trailing slash
 * @param topics every topic to subscribe to, {@code {id}} already expanded over the queues and
 *     users given, in file order
 * @param backfill how a gap (a reconnect, a restart, a crash) is filled from the Analytics API
 * @param rotateAfter a channel is replaced (the new one connected before the old is closed) this
 *     long after it was created, well before the 24 hours Genesys gives it
 * @param quietAfter a {@code ping} is sent when nothing arrived for this long
 * @param deadAfter a socket that brought nothing (not even a heartbeat) for this long is replaced
 */
public record PullConfig(
    URI loginUrl,
    URI apiUrl,
    String clientId,
    String clientSecret,
    List<String> topics,
    Backfill backfill,
    Duration rotateAfter,
    Duration quietAfter,
    Duration deadAfter) {

  /**
   * A pulled event's headers: what the source computes for each message, so that a source written
   * without {@code idempotency:} or {@code event_time:} still de-duplicates overlapping channels
   * and backfills, and orders by the time Genesys gives (docs/sources.md).
   */
  public static final String KEY_HEADER = "x-switchboard-pull-key";

  public static final String TIME_HEADER = "x-switchboard-pull-time";

  /** Genesys accepts at most this many topics on one channel (more is a 400). */
  public static final int TOPICS_PER_CHANNEL = 1_000;

  /** Genesys keeps at most this many channels per client (a new one replaces the oldest). */
  public static final int CHANNELS_PER_CLIENT = 20;

  /**
   * @param enabled whether gaps are filled at all
   * @param lookback the Analytics query reaches this far before a gap, for conversations that
   *     started before it and changed during it (the query selects by conversation start)
   * @param overlap the gap starts this long before the last moment the socket was known to be
   *     complete, for events Genesys was still sending; duplicates are absorbed by the key
   * @param settle the gap is read from the Analytics API this long after the reconnection, for
   *     records that reach it later than the stream (0: at once)
   */
  public record Backfill(boolean enabled, Duration lookback, Duration overlap, Duration settle) {
    /** As before {@code settle} existed: the gap is read at once. */
    public Backfill(boolean enabled, Duration lookback, Duration overlap) {
      this(enabled, lookback, overlap, Duration.ZERO);
    }
  }

  /** Never the client secret: a record's default would print it. */
  @Override
  public String toString() {
    return "PullConfig[" + apiUrl.getHost() + ", " + topics.size() + " topics]";
  }
}
