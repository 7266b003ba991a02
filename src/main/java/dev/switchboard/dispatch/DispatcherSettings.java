package dev.switchboard.dispatch;

import java.time.Duration;

/**
 * How often the dispatcher polls, sweeps and renews, and how much it holds in memory.
 *
 * @param pollInterval how often due retries are looked for, and the longest the loop sleeps
 * @param sweepInterval how often the whole queue is re-read as a safety net
 * @param reapInterval how often expired leases are returned and live ones renewed
 * @param laneCapacity deliveries held in memory per destination
 * @param laneBytes bytes all destinations' deliveries may hold in memory together (a quarter of the
 *     heap by default)
 * @param scanBatch rows read per scan
 */
public record DispatcherSettings(
    Duration pollInterval,
    Duration sweepInterval,
    Duration reapInterval,
    int laneCapacity,
    long laneBytes,
    int scanBatch) {
  public static final DispatcherSettings DEFAULT =
      new DispatcherSettings(
          Duration.ofSeconds(1),
          Duration.ofSeconds(10),
          Duration.ofSeconds(20),
          20_000,
          LaneBytes.defaultLimit(),
          2_000);

  /** With the lanes' default bytes. */
  public DispatcherSettings(
      Duration pollInterval,
      Duration sweepInterval,
      Duration reapInterval,
      int laneCapacity,
      int scanBatch) {
    this(
        pollInterval,
        sweepInterval,
        reapInterval,
        laneCapacity,
        LaneBytes.defaultLimit(),
        scanBatch);
  }

  /**
   * {@link #DEFAULT}, with the heartbeat ({@code reapInterval}: lease renewal and reaping, so how
   * soon a dead node's deliveries are taken over) from the system property {@code
   * switchboard.dispatch.heartbeat} in milliseconds when it is set (fail-over tests).
   */
  public static DispatcherSettings fromSystemProperties() {
    Long heartbeat = Long.getLong("switchboard.dispatch.heartbeat");
    if (heartbeat == null || heartbeat <= 0) {
      return DEFAULT;
    }
    return new DispatcherSettings(
        DEFAULT.pollInterval(),
        DEFAULT.sweepInterval(),
        Duration.ofMillis(heartbeat),
        DEFAULT.laneCapacity(),
        DEFAULT.laneBytes(),
        DEFAULT.scanBatch());
  }
}
