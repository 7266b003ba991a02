package dev.switchboard.observability;

import dev.switchboard.config.OperationalSource;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The gateway's Prometheus metrics, scraped at {@code /metrics}, and the same figures as a short
 * in-memory time series for the admin API and dashboard ({@link #stats()}).
 */
public final class GatewayMetrics implements AutoCloseable {
  /** The circuit breaker's states, one gauge series each (1 for the current one). */
  static final java.util.List<String> BREAKER_STATES =
      java.util.List.of("closed", "open", "half_open");

  private static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final StatsSeries stats;
  private final Instant since;
  private final ConcurrentHashMap<String, Counter> requestCounters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> ackTimers = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> purgedCounters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> coercedCounters = new ConcurrentHashMap<>();
  private final java.util.concurrent.ConcurrentHashMap<String, Counter> outcomeCounters =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.ConcurrentHashMap<String, Timer> endToEndTimers =
      new java.util.concurrent.ConcurrentHashMap<>();

  private final DistributionSummary batchSize =
      DistributionSummary.builder("switchboard_store_group_commit_batch_size")
          .description("Events written per group-commit transaction (one sync each)")
          .publishPercentileHistogram()
          .maximumExpectedValue(1000.0)
          .register(registry);

  private final JvmGcMetrics jvmGc = new JvmGcMetrics();
  private final ConcurrentHashMap<String, DestinationGauges> destinations =
      new ConcurrentHashMap<>();
  private volatile Runnable beforeScrape;
  private final AtomicLong lastRefresh = new AtomicLong(System.nanoTime() - REFRESH_NANOS);

  public GatewayMetrics() {
    this(Clock.systemUTC());
  }

  /**
   * @param clock places figures in the stats series' steps
   */
  public GatewayMetrics(Clock clock) {
    this.stats = new StatsSeries(clock);
    this.since = clock.instant();
    new JvmMemoryMetrics().bindTo(registry);
    jvmGc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
  }

  /** One destination's state, as its gauges read it. */
  private static final class DestinationGauges {
    final AtomicLong queueDepth = new AtomicLong();
    final AtomicLong deadLetters = new AtomicLong();
    final AtomicLong paused = new AtomicLong();
    final AtomicLong held = new AtomicLong();
    volatile String breaker = "closed";
  }

  /**
   * Sets a destination's gauges: {@code switchboard_destination_queue_depth} (pending, in flight or
   * retry scheduled), {@code switchboard_destination_dead_letters}, {@code
   * switchboard_destination_breaker_state} (1 for the {@code state} the breaker is in, 0 for the
   * others), {@code switchboard_destination_paused} (an operator's pause) and {@code
   * switchboard_destination_held} (a wait the destination asked for, such as {@code Retry-After}).
   */
  public void destination(
      String name,
      long queueDepth,
      long deadLetters,
      String breaker,
      boolean paused,
      boolean held) {
    DestinationGauges g = destinations.computeIfAbsent(name, this::registerDestination);
    g.queueDepth.set(queueDepth);
    g.deadLetters.set(deadLetters);
    g.breaker = breaker;
    g.paused.set(paused ? 1 : 0);
    g.held.set(held ? 1 : 0);
  }

  private DestinationGauges registerDestination(String name) {
    DestinationGauges g = new DestinationGauges();
    Gauge.builder("switchboard_destination_queue_depth", g.queueDepth, AtomicLong::get)
        .description("Deliveries pending, in flight or scheduled for a retry")
        .tag("destination", name)
        .register(registry);
    Gauge.builder("switchboard_destination_dead_letters", g.deadLetters, AtomicLong::get)
        .description("Dead letters waiting for replay or discard")
        .tag("destination", name)
        .register(registry);
    for (String state : BREAKER_STATES) {
      Gauge.builder(
              "switchboard_destination_breaker_state", g, x -> x.breaker.equals(state) ? 1 : 0)
          .description("1 for the state the destination's circuit breaker is in")
          .tag("destination", name)
          .tag("state", state)
          .register(registry);
    }
    Gauge.builder("switchboard_destination_paused", g.paused, AtomicLong::get)
        .description("1 while an operator has paused the destination")
        .tag("destination", name)
        .register(registry);
    Gauge.builder("switchboard_destination_held", g.held, AtomicLong::get)
        .description("1 while the destination asked to wait (Retry-After, rate-limit headers)")
        .tag("destination", name)
        .register(registry);
    return g;
  }

  /**
   * Runs {@code refresh} (which sets the destination gauges) before a scrape, at most once a
   * second, so that the gauges are current without a count per gauge.
   */
  public void beforeScrape(Runnable refresh) {
    this.beforeScrape = refresh;
  }

  @Override
  public void close() {
    jvmGc.close();
  }

  /** When counting began (the process's start): the counters cover the time since. */
  public Instant since() {
    return since;
  }

  /** The last hour in 10-second steps. */
  public StatsSeries stats() {
    return stats;
  }

  /**
   * Ingest requests since start, by source and outcome (accepted, duplicate, quarantined, or a
   * rejection code such as signature_rejected).
   */
  public Map<String, Map<String, Long>> ingestCounts() {
    Map<String, Map<String, Long>> counts = new TreeMap<>();
    requestCounters.forEach(
        (key, counter) -> {
          int split = key.indexOf('\u0000');
          counts
              .computeIfAbsent(key.substring(0, split), k -> new TreeMap<>())
              .put(key.substring(split + 1), (long) counter.count());
        });
    return counts;
  }

  /** Counts one ingest request by source and outcome (accepted, duplicate, or a reject code). */
  public void ingestRequest(String source, String outcome) {
    if (!OperationalSource.NAME.equals(source)) {
      // the gateway's own events are not traffic: the dashboard's ingest figures leave them out
      stats.ingest(outcome);
    }
    requestCounters
        .computeIfAbsent(
            source + '\u0000' + outcome,
            k ->
                Counter.builder("switchboard_ingest_requests")
                    .description("Ingest requests by source and outcome")
                    .tag("source", source)
                    .tag("outcome", outcome)
                    .register(registry))
        .increment();
  }

  /**
   * Counts one request whose value at {@code path} was converted by the source's {@code coerce}
   * rule (e.g. {@code "45"} to 45 before schema validation).
   */
  public void coerced(String source, String path) {
    coercedCounters
        .computeIfAbsent(
            source + '\u0000' + path,
            k ->
                Counter.builder("switchboard_ingest_coerced")
                    .description(
                        "Ingest requests with a value converted by coerce, by source and path")
                    .tag("source", source)
                    .tag("path", path)
                    .register(registry))
        .increment();
  }

  /** Time from the request's arrival to its answer, for answers that stored something. */
  public void ackLatency(String source, long nanos) {
    if (!OperationalSource.NAME.equals(source)) {
      stats.ackLatency(nanos); // as for the ingest counts: the dashboard's figures are traffic
    }
    ackTimers
        .computeIfAbsent(
            source,
            s ->
                Timer.builder("switchboard_ingest_ack")
                    .description("Time from request to durable acknowledgement")
                    .tag("source", s)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofSeconds(10))
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * Counts rows removed by retention, by table (events, deliveries, attempts, idempotency_keys).
   */
  public void retentionPurged(String table, long rows) {
    if (rows > 0) {
      purgedCounters
          .computeIfAbsent(
              table,
              t ->
                  Counter.builder("switchboard_retention_purged_rows")
                      .description("Rows removed by the retention purge, by table")
                      .tag("table", t)
                      .register(registry))
          .increment(rows);
    }
  }

  /** Rows purged so far from {@code table}. */
  public long retentionPurgedCount(String table) {
    Counter counter = purgedCounters.get(table);
    return counter == null ? 0 : (long) counter.count();
  }

  /** Counts one finished claim by destination and outcome (delivered, retry, dead, skipped…). */
  public void deliveryOutcome(String destination, String outcome) {
    stats.delivery(destination, outcome);
    outcomeCounters
        .computeIfAbsent(
            destination + '\u0000' + outcome,
            k ->
                Counter.builder("switchboard_deliveries")
                    .description("Delivery outcomes by destination")
                    .tag("destination", destination)
                    .tag("outcome", outcome)
                    .register(registry))
        .increment();
  }

  /** Time from the event's receipt to the destination's acceptance of it. */
  public void endToEnd(String destination, Duration latency) {
    stats.endToEnd(latency);
    endToEndTimers
        .computeIfAbsent(
            destination,
            d ->
                Timer.builder("switchboard_delivery_end_to_end")
                    .description("Time from receipt of an event to its delivery")
                    .tag("destination", d)
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofHours(1))
                    .register(registry))
        .record(latency);
  }

  public void groupCommitBatch(int size) {
    batchSize.record(size);
  }

  /** Mean group-commit batch size since start (for reports). */
  public double meanGroupCommitBatch() {
    return batchSize.count() == 0 ? 0 : batchSize.totalAmount() / batchSize.count();
  }

  /**
   * A pulled source's figure (docs/deployment.md, "Metrics"), read at each scrape: a gauge, or a
   * counter when {@code counter} (its name then ends in {@code _total}).
   */
  public void pullSource(
      String name, String description, String source, boolean counter, Supplier<Number> value) {
    pullFigures.add(value); // meters hold their functions weakly
    if (counter) {
      io.micrometer.core.instrument.FunctionCounter.builder(name, value, v -> v.get().doubleValue())
          .description(description)
          .tag("source", source)
          .register(registry);
    } else {
      Gauge.builder(name, value).description(description).tag("source", source).register(registry);
    }
  }

  private final java.util.List<Supplier<Number>> pullFigures =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  public void backlogGauge(Supplier<Number> backlog) {
    Gauge.builder("switchboard_backlog", backlog)
        .description("Deliveries not yet in a final state")
        .register(registry);
  }

  public String scrape() {
    Runnable refresh = beforeScrape;
    long last = lastRefresh.get();
    long now = System.nanoTime();
    if (refresh != null && now - last >= REFRESH_NANOS && lastRefresh.compareAndSet(last, now)) {
      try {
        refresh.run();
      } catch (RuntimeException e) {
        // the gauges keep their last values; the counters are still worth a scrape
      }
    }
    return registry.scrape();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }
}
