package dev.switchboard.app;

import dev.switchboard.alerts.OperationalEvents;
import dev.switchboard.pull.PullStatus;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the operator when a pulled source that was connected loses its connection, and when it is
 * connected again (docs/operational-events.md); its first connection, and a restarted source's, is
 * no news. Looked at on the housekeeping thread, a few times a second.
 */
final class PulledSourceWatch {
  private static final Logger LOG = LoggerFactory.getLogger(PulledSourceWatch.class);

  /** A source's last error is the reason for its disconnection only if this recent. */
  private static final Duration FRESH = Duration.ofSeconds(10);

  private final Supplier<List<PullStatus>> status;
  private final OperationalEvents ops;
  private final Clock clock;

  /** Whether each pulled source was connected at the last look; absent before its first. */
  private final Map<String, Boolean> connected = new ConcurrentHashMap<>();

  PulledSourceWatch(Supplier<List<PullStatus>> status, OperationalEvents ops, Clock clock) {
    this.status = status;
    this.ops = ops;
    this.clock = clock;
  }

  void look() {
    try {
      for (PullStatus s : status.get()) {
        boolean up = "connected".equals(s.state());
        Boolean wasUp = connected.get(s.source());
        if (up && Boolean.FALSE.equals(wasUp)) {
          ops.sourceReconnected(s.source());
        } else if (!up && Boolean.TRUE.equals(wasUp)) {
          boolean fresh =
              s.lastErrorAt() != null && s.lastErrorAt().isAfter(clock.instant().minus(FRESH));
          ops.sourceDisconnected(
              s.source(), fresh && s.lastError() != null ? s.lastError() : s.state());
        }
        if (up || wasUp != null) {
          connected.put(s.source(), up);
        }
      }
    } catch (RuntimeException e) {
      LOG.debug("pulled sources' status: {}", e.toString());
    }
  }

  /** After a reload: the sources start again, and their first connection is no news. */
  void forget() {
    connected.clear();
  }
}
