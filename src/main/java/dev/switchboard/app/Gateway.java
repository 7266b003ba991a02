package dev.switchboard.app;

import dev.switchboard.admin.AdminRoutes;
import dev.switchboard.admin.QueueSampler;
import dev.switchboard.admin.UiRoutes;
import dev.switchboard.alerts.Alerts;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.ConfigProblem;
import dev.switchboard.config.ReloadResult;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.config.StoreConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.dispatch.DeliveryService;
import dev.switchboard.dispatch.Dispatcher;
import dev.switchboard.dispatch.DispatcherSettings;
import dev.switchboard.ingest.IngestHandler;
import dev.switchboard.ingest.IngestService;
import dev.switchboard.ingest.QuarantineService;
import dev.switchboard.observability.GatewayMetrics;
import dev.switchboard.observability.HealthEndpoints;
import dev.switchboard.observability.StatsSeries;
import dev.switchboard.observability.Tracing;
import dev.switchboard.pull.PullSources;
import dev.switchboard.store.Purged;
import dev.switchboard.store.sql.PostgresDialect;
import dev.switchboard.store.sql.SqlEventStore;
import dev.switchboard.store.sql.SqliteDialect;
import dev.switchboard.store.sql.StoreLock;
import dev.switchboard.tls.PemFileException;
import dev.switchboard.tls.ServerCertificate;
import io.javalin.Javalin;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: the only place that wires concrete classes. Opens the store (migrating it),
 * builds ingest, and starts the HTTP listener; {@link #reload} applies a changed configuration file
 * without a restart; {@link #close} shuts down in the reverse order so every request already inside
 * gets its answer.
 */
public final class Gateway implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

  /** The connectors and enrichers built for the running configuration. */
  private volatile SwitchboardConfig config;

  private final Object reloading = new Object();
  private final Connectors connectors;

  /** The operational events (docs/operational-events.md). */
  private final Alerts alerts;

  /** Tells the operator of pulled sources losing and regaining their connection. */
  private final PulledSourceWatch pulledWatch;

  private Wiring wiring; // guarded by reloading
  private boolean closed; // guarded by reloading
  private final GatewayMetrics metrics;
  private final Tracing tracing;
  private final StoreLock storeLock; // null on PostgreSQL, where several nodes share by design
  private final SqlEventStore store;
  private final IngestService ingest;
  private final PullSources pulls;
  private final Dispatcher dispatcher;
  private final DeliveryService deliveries;
  private final QueueSampler queueSampler;
  private final Javalin http;
  private SlowRequestCloser slowRequests; // set while Javalin builds the server
  // its own thread: a long retention purge on housekeeping must not stretch the slowloris bound
  private final ScheduledExecutorService slowRequestSweep =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("slow-request-sweep").daemon(true).factory());
  private final ScheduledExecutorService housekeeping =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("housekeeping").daemon(true).factory());

  private Gateway(
      SwitchboardConfig config,
      Clock clock,
      DispatcherSettings dispatch,
      StoreLock storeLock,
      ServerCertificate certificate,
      GatewayMetrics metrics,
      SqlEventStore store,
      Tracing tracing)
      throws IOException, SQLException {
    this.config = config;
    this.tracing = tracing;
    this.storeLock = storeLock;
    this.metrics = metrics;
    this.store = store;
    metrics.backlogGauge(store::countUnfinishedDeliveries);
    this.connectors = new Connectors(clock);
    this.wiring = Wiring.build(connectors, config, null, null);
    this.dispatcher =
        new Dispatcher(
            config.routes(),
            config.destinations(),
            wiring.destinations(),
            wiring.unavailable(),
            wiring.enrichers(),
            store.deliveries(),
            clock,
            new SecureRandom(),
            dispatch,
            metrics);
    if (store.cluster() != null) {
      dispatcher.shareLimits(store.cluster());
    }
    dispatcher.traceWith(tracing);
    this.deliveries = new DeliveryService(store.deliveries(), dispatcher, clock);
    this.queueSampler = new QueueSampler(deliveries, metrics);
    metrics.beforeScrape(queueSampler);
    this.ingest = new IngestService(config, store, clock, metrics, tracing);
    // the gateway's own troubles become events of its built-in source, routed like any other
    this.alerts =
        new Alerts(config.alerts(), clock, json -> ingest.ingestOperational(json).status());
    ingest.reportTo(alerts);
    dispatcher.reportTo(alerts);
    this.pulls = new PullSources(ingest::ingestPulled, store, clock, metrics);
    this.pulledWatch = new PulledSourceWatch(pulls::status, alerts, clock);
    IngestHandler intake = new IngestHandler(ingest);
    HealthEndpoints health = new HealthEndpoints(metrics, store::isWritable, ingest::isAccepting);
    this.http =
        Javalin.create(
            cfg -> {
              cfg.startup.showJavalinBanner = false;
              cfg.startup.showOldJavalinVersionWarning = false;
              cfg.concurrency.useVirtualThreads =
                  !Boolean.getBoolean("switchboard.platformThreads");
              cfg.jetty.modifyServer(
                  server -> {
                    server.insertHandler(intake);
                    slowRequests =
                        new SlowRequestCloser(server, () -> this.config.server().requestTimeout());
                  });
              cfg.jetty.addConnector(
                  (server, httpConfig) ->
                      certificate == null
                          ? HttpsListener.plainConnector(
                              server, httpConfig, config.server().host(), config.server().port())
                          : HttpsListener.connector(
                              server,
                              httpConfig,
                              certificate,
                              config.server().host(),
                              config.server().port()));
              health.register(cfg.routes);
              new AdminRoutes(
                      () -> this.config,
                      store,
                      deliveries,
                      new QuarantineService(ingest, store, clock),
                      metrics,
                      queueSampler,
                      this::reload)
                  .withPullSources(pulls::status)
                  .register(cfg.routes);
              new UiRoutes().register(cfg.routes);
            });
  }

  /**
   * Opens the store and starts listening; returns once the port is bound. A SQLite store another
   * gateway holds, in this process or another, is refused with a {@link
   * dev.switchboard.store.sql.StoreInUseException} before it is touched.
   */
  public static Gateway start(SwitchboardConfig config, Clock clock)
      throws IOException, SQLException {
    return start(config, clock, DispatcherSettings.fromSystemProperties());
  }

  /** As above, with the dispatcher's timing (tests poll faster). */
  public static Gateway start(SwitchboardConfig config, Clock clock, DispatcherSettings dispatch)
      throws IOException, SQLException {
    // before anything opens the database: a second gateway on the file would take the first
    // one's in-flight deliveries back to pending and send them again
    StoreLock storeLock =
        "postgres".equals(config.store().type())
            ? null
            : StoreLock.acquire(Path.of(config.store().path()));
    Gateway gateway;
    GatewayMetrics metrics = null;
    SqlEventStore store = null;
    Tracing tracing = Tracing.off();
    try {
      // a certificate that does not load refuses the start before the store is touched
      ServerCertificate certificate = loadCertificate(config.server().tls(), clock);
      metrics = new GatewayMetrics(clock);
      store = openStore(config.store(), clock, metrics);
      tracing = Tracing.start(config.telemetry());
      gateway =
          new Gateway(config, clock, dispatch, storeLock, certificate, metrics, store, tracing);
    } catch (IOException | SQLException | RuntimeException e) {
      // the store closed before its lock is given up: another gateway may open it then
      try {
        tracing.close();
        if (store != null) {
          store.close();
        }
        if (metrics != null) {
          metrics.close();
        }
      } finally {
        if (storeLock != null) {
          storeLock.close();
        }
      }
      throw e;
    }
    try {
      gateway.dispatcher.start();
      gateway.http.start(config.server().host(), config.server().port());
      gateway.pulls.apply(config);
    } catch (RuntimeException e) {
      try {
        gateway.pulls.close();
        gateway.dispatcher.close(Duration.ZERO);
        gateway.alerts.close();
        gateway.tracing.close();
        gateway.store.close();
        gateway.metrics.close();
      } finally {
        if (storeLock != null) {
          storeLock.close();
        }
      }
      throw e;
    }
    long retentionEvery = config.store().retention().interval().toMillis();
    gateway.housekeeping.scheduleWithFixedDelay(
        () -> gateway.purgeHistory(clock), retentionEvery, retentionEvery, TimeUnit.MILLISECONDS);
    long sweep = SlowRequestCloser.period(config.server().requestTimeout()).toMillis();
    gateway.slowRequestSweep.scheduleWithFixedDelay(
        gateway::closeSlowRequests, sweep, sweep, TimeUnit.MILLISECONDS);
    long step = StatsSeries.STEP.toMillis();
    gateway.housekeeping.scheduleAtFixedRate(
        gateway::sampleQueues, step, step, TimeUnit.MILLISECONDS);
    gateway.housekeeping.scheduleWithFixedDelay(
        gateway.pulledWatch::look, 250, 250, TimeUnit.MILLISECONDS);
    LOG.info(
        "switchboard listening on {}:{} with {} source(s), store {}",
        config.server().host(),
        gateway.port(),
        config.sources().size(),
        config.store().type());
    return gateway;
  }

  /**
   * The HTTPS listener's certificate, or null for plain HTTP. The configuration loader has already
   * checked the files; this reads them again as they are now, and refuses to start rather than
   * serve plain HTTP to senders that expect HTTPS.
   */
  private static ServerCertificate loadCertificate(ServerConfig.TlsConfig tls, Clock clock) {
    if (tls == null) {
      return null;
    }
    Path cert = Path.of(tls.cert());
    Path key = Path.of(tls.key());
    ServerCertificate certificate;
    try {
      certificate = ServerCertificate.load(cert, key);
    } catch (PemFileException e) {
      String at =
          cert.equals(key)
              ? "server.tls"
              : e.file().equals(cert) ? "server.tls.cert" : "server.tls.key";
      throw new IllegalArgumentException(at + ": " + e.getMessage());
    }
    certificate
        .validityWarning(clock.instant())
        .ifPresentOrElse(
            warning -> LOG.warn("HTTPS: {}", warning),
            () -> LOG.info("HTTPS with certificate {}", certificate.describe()));
    return certificate;
  }

  /** Reloads from the file the running configuration was loaded from. */
  public ReloadResult reload() throws ConfigException {
    return reload(config.file());
  }

  /**
   * Re-reads and validates {@code file}, then applies it without a restart (the rule is on {@link
   * ReloadResult}): ingest switches first, each request running wholly on one configuration; then
   * the dispatcher, whose in-flight attempts finish on the connectors they started with. Reloads
   * are serialised.
   *
   * @throws ConfigException with every problem when the file is invalid or a connector cannot be
   *     built; the running configuration is then unchanged
   */
  public ReloadResult reload(Path file) throws ConfigException {
    synchronized (reloading) {
      if (closed) {
        throw new IllegalStateException("the gateway is shutting down");
      }
      SwitchboardConfig loaded = ConfigLoader.load(file);
      SwitchboardConfig running = config;
      ReloadResult result = ReloadResult.between(running, loaded);
      SwitchboardConfig next = ReloadResult.applicable(running, loaded);
      Wiring nextWiring;
      try {
        nextWiring = Wiring.build(connectors, next, running, wiring);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(
            List.of(new ConfigProblem(file.toString(), 0, "", e.getMessage())));
      }
      try {
        ingest.reconfigure(next);
      } catch (RuntimeException e) {
        nextWiring.closeUnusedBy(wiring);
        throw new ConfigException(
            List.of(new ConfigProblem(file.toString(), 0, "sources", e.getMessage())));
      }
      pulls.apply(next);
      pulledWatch.forget(); // a restarted source's first connection is no news either
      alerts.reconfigure(next.alerts());
      dispatcher.reconfigure(
          next.routes(),
          next.destinations(),
          nextWiring.destinations(),
          nextWiring.unavailable(),
          nextWiring.enrichers());
      wiring = nextWiring;
      config = next;
      LOG.info(
          "configuration reloaded from {}: sources {}, routes {}, destinations {}",
          file,
          result.sources(),
          result.routes(),
          result.destinations());
      result.warnings().forEach(w -> LOG.warn("configuration reload: {}", w));
      return result;
    }
  }

  private static SqlEventStore openStore(StoreConfig store, Clock clock, GatewayMetrics metrics)
      throws IOException, SQLException {
    if ("postgres".equals(store.type())) {
      return SqlEventStore.open(
          new PostgresDialect(store.url(), store.user(), store.password(), store.poolSize()),
          clock,
          metrics::groupCommitBatch);
    }
    SqliteDialect dialect = new SqliteDialect(Path.of(store.path()));
    dialect.createFolder();
    SqlEventStore opened = SqlEventStore.open(dialect, clock, metrics::groupCommitBatch);
    if (store.maxSizeBytes() > 0) {
      opened.limitSize(store.maxSizeBytes());
    }
    return opened;
  }

  /** Lets requests already inside ingest get their answers (each waits at most its ack timeout). */
  private void awaitIngestIdle(Duration grace) {
    long deadline = System.nanoTime() + grace.toNanos();
    while (ingest.inFlight() > 0 && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    if (ingest.inFlight() > 0) {
      LOG.warn("{} ingest request(s) still running after the shutdown grace", ingest.inFlight());
    }
  }

  /** Retention: old finished events and expired idempotency keys (store.retention). */
  private void purgeHistory(Clock clock) {
    StoreConfig.Retention retention = config.store().retention();
    try {
      // the metrics count each write batch as it commits, so a long pass shows its progress
      Purged purged =
          store.purgeHistory(
              clock.instant(),
              retention.delivered(),
              retention.dead(),
              batch -> {
                metrics.retentionPurged("events", batch.events());
                metrics.retentionPurged("deliveries", batch.deliveries());
                metrics.retentionPurged("attempts", batch.attempts());
                metrics.retentionPurged("idempotency_keys", batch.keys());
              });
      if (purged.rows() > 0) {
        LOG.info(
            "retention purged {} event(s), {} delivery(ies), {} attempt(s), {} idempotency key(s)",
            purged.events(),
            purged.deliveries(),
            purged.attempts(),
            purged.keys());
      } else {
        LOG.debug("retention found nothing to purge");
      }
    } catch (RuntimeException e) {
      LOG.warn("retention purge failed, trying again next interval: {}", e.getMessage());
    }
  }

  /** Slowloris defence (server.request_timeout); see {@link SlowRequestCloser}. */
  private void closeSlowRequests() {
    try {
      if (slowRequests != null) {
        slowRequests.sweep();
      }
    } catch (RuntimeException e) {
      // a failed sweep must not cancel the schedule; the next one tries again
      LOG.warn("could not sweep for slow requests: {}", e.toString());
    }
  }

  /** Queue depth and dead letters per destination into the stats series (every step). */
  private void sampleQueues() {
    try {
      queueSampler.run();
    } catch (RuntimeException e) {
      // a failed sample leaves a gap in a chart; the next step tries again
      LOG.debug("could not sample the queues: {}", e.getMessage());
    }
  }

  /** Every HTTP endpoint as "METHOD path" (the admin API's OpenAPI test compares them). */
  public List<String> httpEndpoints() {
    return http.unsafe.internalRouter.allHttpHandlers().stream()
        .map(e -> e.endpoint.method.name() + " " + e.endpoint.path)
        .toList();
  }

  public int port() {
    return http.port();
  }

  public SqlEventStore store() {
    return store;
  }

  /** The dispatcher (its cluster view, for tests and status). */
  public Dispatcher dispatcher() {
    return dispatcher;
  }

  /** Replay, discard, pause and resume: the operator's API. */
  public DeliveryService deliveries() {
    return deliveries;
  }

  /** The pulled sources' state (docs/sources.md). */
  public List<dev.switchboard.pull.PullStatus> pullStatus() {
    return pulls.status();
  }

  public GatewayMetrics metrics() {
    return metrics;
  }

  public SwitchboardConfig config() {
    return config;
  }

  /** From now on ingest answers 503 {@code shutting_down}; the listener stays up. */
  public void stopAccepting() {
    ingest.stopAccepting();
  }

  /**
   * Graceful stop (docs/guarantees.md), all within {@code server.shutdown_grace}: new ingest
   * requests get 503 {@code shutting_down}; requests inside get their answers; attempts in flight
   * finish and their outcomes are written (what still runs after the grace is left in the store and
   * resumed on the next start); then the listener stops and the store writes what it was handed and
   * closes. Idempotent.
   */
  @Override
  public void close() {
    synchronized (reloading) {
      if (closed) {
        return;
      }
      closed = true;
    }
    Duration grace = config.server().shutdownGrace();
    LOG.info("switchboard shutting down (grace {} s)", grace.toSeconds());
    // one deadline for the whole stop, so the process exits within the grace and a few seconds
    long deadline = System.nanoTime() + grace.toNanos();
    pulls.close(); // what a pulled source holds unstored stays a gap: the next start backfills it
    ingest.stopAccepting();
    awaitIngestIdle(grace);
    housekeeping.shutdownNow();
    // the listener stays up meanwhile: senders get 503 shutting_down (and retry) rather than a
    // refused connection, and /readyz tells a load balancer to drain
    dispatcher.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    alerts.close();
    http.stop();
    slowRequestSweep.shutdownNow();
    connectors.close();
    tracing.close(); // the last attempts' spans, sent within a few seconds
    try {
      store.close();
      metrics.close();
    } finally {
      // however the store's close ended, this process no longer uses it
      if (storeLock != null) {
        storeLock.close();
      }
    }
    LOG.info("switchboard stopped");
  }
}
