package dev.switchboard.pull;

import dev.switchboard.config.SourceConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.pull.genesys.NotificationSource;
import dev.switchboard.store.EventStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The gateway's pulled sources (docs/sources.md, "Genesys Cloud notifications"): one running source
 * per {@code type: genesys-notifications} in the configuration, each handing its events to the
 * gateway's ingest for that source. A reload keeps a source whose settings did not change, stops
 * one removed or changed and starts the new one (a changed source reconnects; its coverage in the
 * store carries the gap over).
 */
public final class PullSources implements AutoCloseable {
  /** How often a source looks after its channels. */
  static final Duration TICK = Duration.ofMillis(500);

  private final Ingest ingest;
  private final dev.switchboard.observability.GatewayMetrics metrics;
  private final EventStore store;
  private final Clock clock;
  private final Map<String, NotificationSource> running = new LinkedHashMap<>();
  private final java.util.Set<String> registered = new java.util.HashSet<>();
  private boolean closed;

  /** The gateway's ingest, per source name. */
  @FunctionalInterface
  public interface Ingest {
    dev.switchboard.ingest.IngestResponse ingest(
        String source, byte[] json, Map<String, String> headers);
  }

  public PullSources(
      Ingest ingest,
      EventStore store,
      Clock clock,
      dev.switchboard.observability.GatewayMetrics metrics) {
    this.ingest = ingest;
    this.metrics = metrics;
    this.store = store;
    this.clock = clock;
  }

  /** Starts, stops or keeps sources so that those of {@code config} run. */
  public synchronized void apply(SwitchboardConfig config) {
    if (closed) {
      return;
    }
    Map<String, SourceConfig> wanted = new LinkedHashMap<>();
    config.sources().values().stream()
        .filter(SourceConfig::pulled)
        .forEach(s -> wanted.put(s.name(), s));
    for (var it = running.entrySet().iterator(); it.hasNext(); ) {
      var entry = it.next();
      SourceConfig next = wanted.get(entry.getKey());
      if (next == null || !next.pull().equals(entry.getValue().config())) {
        entry.getValue().close();
        it.remove();
      }
    }
    for (SourceConfig source : wanted.values()) {
      if (!running.containsKey(source.name())) {
        String name = source.name();
        NotificationSource started =
            new NotificationSource(
                name,
                source.pull(),
                (json, headers) -> ingest.ingest(name, json, headers),
                store,
                clock,
                TICK);
        running.put(name, started);
        started.start();
        register(name);
      }
    }
  }

  /** Its figures on {@code /metrics}, read from whichever source of that name runs. */
  private void register(String name) {
    if (metrics == null || !registered.add(name)) {
      return;
    }
    metrics.pullSource(
        "switchboard_pull_connected",
        "1 while every channel of the pulled source is connected",
        name,
        false,
        () -> figure(name, s -> "connected".equals(s.state()) ? 1 : 0));
    metrics.pullSource(
        "switchboard_pull_channels",
        "Channels the pulled source has open",
        name,
        false,
        () -> figure(name, s -> s.channels().size()));
    metrics.pullSource(
        "switchboard_pull_last_message_age_seconds",
        "Seconds since the pulled source last heard from its service",
        name,
        false,
        () ->
            figure(
                name,
                s ->
                    s.lastMessageAt() == null
                        ? -1
                        : java.time.Duration.between(s.lastMessageAt(), clock.instant()).toMillis()
                            / 1000.0));
    metrics.pullSource(
        "switchboard_pull_events",
        "Events the pulled source stored (not counting duplicates)",
        name,
        true,
        () -> figure(name, PullStatus::events));
    metrics.pullSource(
        "switchboard_pull_reconnects",
        "Channels the pulled source replaced",
        name,
        true,
        () -> figure(name, PullStatus::reconnects));
    metrics.pullSource(
        "switchboard_pull_backfilled_events",
        "Events the pulled source stored from its backfills",
        name,
        true,
        () -> figure(name, PullStatus::backfilledEvents));
    metrics.pullSource(
        "switchboard_pull_errors",
        "Refusals and failures the pulled source met",
        name,
        true,
        () -> figure(name, PullStatus::errors));
  }

  private synchronized Number figure(
      String name, java.util.function.ToDoubleFunction<PullStatus> read) {
    NotificationSource source = running.get(name);
    return source == null ? 0 : read.applyAsDouble(source.status());
  }

  /** Each running source's state, in configuration order. */
  public synchronized List<PullStatus> status() {
    List<PullStatus> all = new ArrayList<>();
    running.values().forEach(s -> all.add(s.status()));
    return all;
  }

  @Override
  public synchronized void close() {
    closed = true;
    running.values().forEach(NotificationSource::close);
    running.clear();
  }
}
