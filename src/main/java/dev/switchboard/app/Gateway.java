package dev.switchboard.app;

import dev.switchboard.admin.AdminRoutes;
import dev.switchboard.admin.QueueSampler;
import dev.switchboard.admin.UiRoutes;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.EnricherConfig;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.config.StoreConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.Enricher;
import dev.switchboard.dispatch.DeliveryService;
import dev.switchboard.dispatch.Dispatcher;
import dev.switchboard.ingest.IngestHandler;
import dev.switchboard.ingest.IngestService;
import dev.switchboard.observability.GatewayMetrics;
import dev.switchboard.observability.HealthEndpoints;
import dev.switchboard.observability.StatsSeries;
import dev.switchboard.store.Purged;
import dev.switchboard.store.sql.SqlEventStore;
import dev.switchboard.store.sql.SqliteDialect;
import dev.switchboard.tls.PemFileException;
import dev.switchboard.tls.ServerCertificate;
import io.javalin.Javalin;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root: the only place that wires concrete classes. Opens the store (migrating it),
 * builds ingest, and starts the HTTP listener; {@link #close} shuts down in the reverse order so
 * every request already inside gets its answer.
 */
public final class Gateway implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);

  private final SwitchboardConfig config;
  private final GatewayMetrics metrics;
  private final SqlEventStore store;
  private final IngestService ingest;
  private final Dispatcher dispatcher;
  private final DeliveryService deliveries;
  private final QueueSampler queueSampler;
  private final Javalin http;
  private final ScheduledExecutorService housekeeping =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("housekeeping").daemon(true).factory());

  private Gateway(SwitchboardConfig config, Clock clock, Dispatcher.Settings dispatch)
      throws IOException, SQLException {
    ServerCertificate certificate = loadCertificate(config.server().tls(), clock);
    this.config = config;
    this.metrics = new GatewayMetrics(clock);
    this.store = openStore(config.store(), clock, metrics);
    metrics.backlogGauge(store::countUnfinishedDeliveries);
    Map<String, Destination> built = new LinkedHashMap<>();
    Map<String, String> unavailable = new LinkedHashMap<>();
    Connectors connectors = new Connectors(clock);
    for (DestinationConfig destination : config.destinations().values()) {
      Destination connector = connectors.build(destination);
      if (connector != null) {
        built.put(destination.name(), connector);
      } else {
        unavailable.put(
            destination.name(),
            "the " + destination.type() + " connector is not available in this version");
      }
    }
    Map<String, Enricher> enrichers = new LinkedHashMap<>();
    for (EnricherConfig enricher : config.enrichers().values()) {
      enrichers.put(enricher.name(), connectors.enricher(enricher));
    }
    this.dispatcher =
        new Dispatcher(
            config.routes(),
            config.destinations(),
            built,
            unavailable,
            enrichers,
            store.deliveries(),
            clock,
            new SecureRandom(),
            dispatch,
            metrics);
    this.deliveries = new DeliveryService(store.deliveries(), dispatcher, clock);
    this.queueSampler = new QueueSampler(deliveries, metrics.stats());
    this.ingest = new IngestService(config, store, clock, metrics);
    IngestHandler intake = new IngestHandler(ingest);
    HealthEndpoints health = new HealthEndpoints(metrics, store::isWritable, ingest::isAccepting);
    this.http =
        Javalin.create(
            cfg -> {
              cfg.startup.showJavalinBanner = false;
              cfg.startup.showOldJavalinVersionWarning = false;
              cfg.concurrency.useVirtualThreads =
                  !Boolean.getBoolean("switchboard.platformThreads");
              cfg.jetty.modifyServer(server -> server.insertHandler(intake));
              if (certificate != null) {
                cfg.jetty.addConnector(
                    (server, httpConfig) ->
                        HttpsListener.connector(
                            server,
                            httpConfig,
                            certificate,
                            config.server().host(),
                            config.server().port()));
              }
              health.register(cfg.routes);
              new AdminRoutes(
                      config.admin() == null ? null : config.admin().token(),
                      config,
                      store,
                      deliveries,
                      metrics,
                      queueSampler)
                  .register(cfg.routes);
              new UiRoutes().register(cfg.routes);
            });
  }

  /** Opens the store and starts listening; returns once the port is bound. */
  public static Gateway start(SwitchboardConfig config, Clock clock)
      throws IOException, SQLException {
    return start(config, clock, Dispatcher.Settings.DEFAULT);
  }

  /** As above, with the dispatcher's timing (tests poll faster). */
  public static Gateway start(SwitchboardConfig config, Clock clock, Dispatcher.Settings dispatch)
      throws IOException, SQLException {
    Gateway gateway = new Gateway(config, clock, dispatch);
    try {
      gateway.dispatcher.start();
      gateway.http.start(config.server().host(), config.server().port());
    } catch (RuntimeException e) {
      gateway.dispatcher.close(Duration.ZERO);
      gateway.store.close();
      throw e;
    }
    long retentionEvery = config.store().retention().interval().toMillis();
    gateway.housekeeping.scheduleWithFixedDelay(
        () -> gateway.purgeHistory(clock), retentionEvery, retentionEvery, TimeUnit.MILLISECONDS);
    long step = StatsSeries.STEP.toMillis();
    gateway.housekeeping.scheduleAtFixedRate(
        gateway::sampleQueues, step, step, TimeUnit.MILLISECONDS);
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

  private static SqlEventStore openStore(StoreConfig store, Clock clock, GatewayMetrics metrics)
      throws IOException, SQLException {
    if (!"sqlite".equals(store.type())) {
      throw new IllegalArgumentException("store type " + store.type() + " is not available yet");
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
      Purged purged = store.purgeHistory(clock.instant(), retention.delivered(), retention.dead());
      metrics.retentionPurged("events", purged.events());
      metrics.retentionPurged("deliveries", purged.deliveries());
      metrics.retentionPurged("attempts", purged.attempts());
      metrics.retentionPurged("idempotency_keys", purged.keys());
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

  /** Replay, discard, pause and resume: the operator's API. */
  public DeliveryService deliveries() {
    return deliveries;
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
   * Graceful stop: new requests get 503, the listener stops once requests inside have their
   * answers, then the store writes what it was handed and closes.
   */
  @Override
  public void close() {
    LOG.info("switchboard shutting down");
    ingest.stopAccepting();
    awaitIngestIdle(config.server().shutdownGrace());
    http.stop();
    housekeeping.shutdownNow();
    dispatcher.close(config.server().shutdownGrace());
    store.close();
    LOG.info("switchboard stopped");
  }
}
