package dev.switchboard.dispatch;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.RouteConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.dispatch.DestinationLane.RouteKey;
import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.Event;
import dev.switchboard.expr.ExpressionException;
import dev.switchboard.logging.LogThrottle;
import dev.switchboard.observability.DeliveryLog;
import dev.switchboard.observability.GatewayMetrics;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.ClusterState;
import dev.switchboard.store.DeliveryQueue;
import dev.switchboard.store.Finish;
import dev.switchboard.store.QueuedDelivery;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.TimeMeter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends every pending delivery to its destination: one loop thread decides what may start (per
 * destination: pause, {@code Retry-After}, circuit breaker, rate limit, concurrency, per-key
 * order), and each attempt runs on its own virtual thread: claim under a lease, stale check,
 * transform, send, and the outcome written back fenced by the claim token. No transaction is open
 * while a request is out.
 *
 * <p>New deliveries arrive in memory from the store right after ingest commits them, so a fresh
 * event goes out without a polling delay. Polling ({@link Settings#pollInterval}) only finds
 * retries that came due; a slower sweep re-reads the queue for work memory does not hold (after a
 * restart, a reaped lease, a replay, or when more is waiting than memory keeps).
 *
 * <p>Failure policy: waiting for a paused destination, a {@code Retry-After}, an open breaker, a
 * rate limit or a free slot happens before the claim, so it never spends an attempt. If the store
 * fails a claim or an outcome, the delivery is forgotten in memory and stays in the store (pending,
 * or in_flight until its lease expires and the reaper returns it): it is tried again later, with
 * the same idempotency key.
 */
public final class Dispatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

  /**
   * How an attempt's error starts when something threw that nothing classified (class internal).
   */
  private static final String INTERNAL = "internal error";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_EXCERPT = 500;

  /**
   * @param pollInterval how often due retries are looked for, and the longest the loop sleeps
   * @param sweepInterval how often the whole queue is re-read as a safety net
   * @param reapInterval how often expired leases are returned and live ones renewed
   * @param laneCapacity deliveries held in memory per destination
   * @param scanBatch rows read per scan
   */
  public record Settings(
      Duration pollInterval,
      Duration sweepInterval,
      Duration reapInterval,
      int laneCapacity,
      int scanBatch) {
    public static final Settings DEFAULT =
        new Settings(
            Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(20), 20_000, 2_000);

    /**
     * {@link #DEFAULT}, with the heartbeat ({@code reapInterval}: lease renewal and reaping, so how
     * soon a dead node's deliveries are taken over) from the system property {@code
     * switchboard.dispatch.heartbeat} in milliseconds when it is set (fail-over tests).
     */
    public static Settings fromSystemProperties() {
      Long heartbeat = Long.getLong("switchboard.dispatch.heartbeat");
      if (heartbeat == null || heartbeat <= 0) {
        return DEFAULT;
      }
      return new Settings(
          DEFAULT.pollInterval(),
          DEFAULT.sweepInterval(),
          Duration.ofMillis(heartbeat),
          DEFAULT.laneCapacity(),
          DEFAULT.scanBatch());
    }
  }

  /** A destination's state as operators see it. */
  public record DestinationStatus(
      String name,
      String type,
      boolean available,
      String unavailableReason,
      boolean paused,
      Instant pausedUntil,
      String holdReason,
      String breaker,
      int running,
      int waitingInMemory,
      boolean moreInStore,
      String lastError,
      Instant lastErrorAt) {}

  private record Lease(String token, long claimedNanos) {}

  /** Why a destination removed from the file by a reload is held. */
  static final String REMOVED =
      "removed from the configuration; its deliveries wait in the store until it is back";

  // replaced whole by a reload (on the loop); read anywhere
  private volatile Map<String, RouteConfig> routes;
  private volatile Map<String, DestinationLane> lanes = Map.of();
  private volatile Map<String, Enricher> enrichers;
  private volatile Generation generation = new Generation();
  private final List<Generation> retired = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final RandomGenerator random;
  private final DeliveryQueue queue;
  private final Clock clock;
  private final Settings settings;
  private final GatewayMetrics metrics;
  private final LinkedBlockingQueue<Runnable> mailbox = new LinkedBlockingQueue<>();
  private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
  private final ConcurrentHashMap<DeliveryId, Lease> leases = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<RouteKey, Instant> watermarks = new ConcurrentHashMap<>();
  private final Thread loop;

  /** Cluster mode (ADR 0008): lanes are filled by claims from the shared store. */
  private final boolean claims;

  /** What a server hold does to the stored deliveries: their expiry, and the end of the hold. */
  private final HeldDeliveries held;

  private volatile AutoCloseable workListener = () -> {};
  private volatile boolean stopping;

  /**
   * Single node: the store refused the last claim (a full disk, a locked file). While it does, each
   * attempt waits for its claim's commit before it sends, and attempts start again only after
   * {@link #claimsResumeAt}: a claim that does not commit would otherwise let the request go, and
   * the delivery, still pending in the store, be sent again and again with one idempotency key.
   */
  private volatile boolean claimsRefused;

  /** Single node: System.nanoTime() before which no attempt starts while claims are refused. */
  private volatile long claimsResumeAt;

  /** Single node: claims refused in a row, for the wait before the next attempt. */
  private final java.util.concurrent.atomic.AtomicInteger claimRefusals =
      new java.util.concurrent.atomic.AtomicInteger();

  private final LogThrottle claimRefusedLog = new LogThrottle(Duration.ofSeconds(10));

  /** Limits shared with the other nodes of a cluster, or null on a store of its own. */
  private ClusterLimits cluster;

  /** Cluster mode: claims sent to the store whose leases are not yet recorded. */
  private final java.util.concurrent.atomic.AtomicInteger claimsOut =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Attempts handed to a worker and not yet returned (a lease may not be taken yet). */
  private final java.util.concurrent.atomic.AtomicInteger attemptsRunning =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * @param destinations the built connectors by name; a configured destination missing here is held
   *     (its deliveries wait) with {@code unavailable} giving the reason
   * @param enrichers the built enrichers by name, for routes with an {@code enrich} step
   */
  public Dispatcher(
      Map<String, RouteConfig> routes,
      Map<String, DestinationConfig> destinationConfigs,
      Map<String, Destination> destinations,
      Map<String, String> unavailable,
      Map<String, Enricher> enrichers,
      DeliveryQueue queue,
      Clock clock,
      RandomGenerator random,
      Settings settings,
      GatewayMetrics metrics) {
    this.routes = Map.copyOf(routes);
    this.enrichers = Map.copyOf(enrichers);
    this.queue = queue;
    this.clock = clock;
    this.settings = settings;
    this.metrics = metrics;
    this.random = random;
    Map<String, DestinationLane> built = new LinkedHashMap<>();
    for (DestinationConfig config : destinationConfigs.values()) {
      built.put(
          config.name(),
          new DestinationLane(
              config,
              destinations.get(config.name()),
              unavailable.getOrDefault(config.name(), "no connector"),
              rateOf(config),
              new RetryPolicy(config.retry(), random),
              settings.laneCapacity(),
              perKeyRoutes(routes, config.name())));
    }
    this.claims = !queue.singleNode();
    this.held = new HeldDeliveries(queue, metrics, claims, this::post);
    built.values().forEach(l -> l.claimsFromStore = claims);
    this.lanes = java.util.Collections.unmodifiableMap(built);
    this.loop = Thread.ofPlatform().name("dispatcher").daemon(true).unstarted(this::run);
  }

  private Bucket rateOf(DestinationConfig config) {
    return rateOf(config, 1);
  }

  /** This node's share of the rate limit: a cluster divides it by its live nodes. */
  private Bucket rateOf(DestinationConfig config, int initialTokens) {
    int nodes = cluster == null ? 1 : cluster.rateNodes();
    return config.rateLimit() == null
        ? null
        : bucket(
            config.rateLimit().count(),
            config.rateLimit().per().multipliedBy(nodes),
            clock,
            initialTokens);
  }

  /**
   * Shares rate limits, breakers and pauses with the other nodes on the same database
   * (docs/adr/0009-cluster-limits.md). Call before {@link #start}.
   */
  public void shareLimits(ClusterState state) {
    this.cluster =
        new ClusterLimits(state, clock, workers, this::post, () -> lanes, settings.pollInterval());
  }

  /** The live nodes the rate limits are divided by now (1 without a cluster). */
  public int clusterNodes() {
    return cluster == null ? 1 : cluster.rateNodes();
  }

  /** The live-node count changed: every lane's rate limit takes its new share, with no burst. */
  private void rescaleRates() {
    for (DestinationLane lane : lanes.values()) {
      if (lane.rate != null) {
        lane.rate = rateOf(lane.config, 0);
      }
    }
  }

  private static Set<String> perKeyRoutes(Map<String, RouteConfig> routes, String destination) {
    Set<String> perKey = new HashSet<>();
    for (RouteConfig route : routes.values()) {
      if (route.to().equals(destination) && route.ordering() == RouteConfig.Ordering.PER_KEY) {
        perKey.add(route.name());
      }
    }
    return perKey;
  }

  /**
   * Switches to a reloaded configuration without losing work. A destination whose settings and
   * connector are unchanged keeps its lane as it is (queue, pauses, breaker, rate limit). A changed
   * one takes the new settings and connector, with a fresh breaker and rate limit; attempts already
   * running finish on the connector they started with, which is closed after them. A destination no
   * longer in the file is held like an unavailable one: its deliveries stay in the store, neither
   * sent nor deleted, and go out again if a later reload brings it back. Memory forgets what was
   * waiting in changed lanes and reads it again from the store.
   *
   * @param destinations the connectors by name: the running instance for an unchanged destination,
   *     a new one for a changed or added destination
   * @param enrichers the enrichers by name, likewise
   */
  public void reconfigure(
      Map<String, RouteConfig> routes,
      Map<String, DestinationConfig> destinationConfigs,
      Map<String, Destination> destinations,
      Map<String, String> unavailable,
      Map<String, Enricher> enrichers) {
    Set<String> paused = Set.copyOf(queue.pausedDestinations());
    onLoop(
        () -> {
          List<Runnable> replaced = new ArrayList<>();
          Map<String, DestinationLane> next = new LinkedHashMap<>();
          for (DestinationConfig config : destinationConfigs.values()) {
            String name = config.name();
            Destination connector = destinations.get(name);
            String reason = unavailable.getOrDefault(name, "no connector");
            Set<String> perKey = perKeyRoutes(routes, name);
            DestinationLane lane = lanes.get(name);
            if (lane == null) {
              lane =
                  new DestinationLane(
                      config,
                      connector,
                      reason,
                      rateOf(config),
                      new RetryPolicy(config.retry(), random),
                      settings.laneCapacity(),
                      perKey);
              lane.paused = paused.contains(name);
              lane.claimsFromStore = claims;
            } else {
              boolean changed = !lane.config.equals(config) || lane.destination != connector;
              if (lane.destination != null && lane.destination != connector) {
                replaced.add(lane.destination::close);
              }
              if (changed) {
                lane.rewire(
                    config,
                    connector,
                    reason,
                    rateOf(config),
                    new RetryPolicy(config.retry(), random));
              }
              if (changed || !lane.perKeyRoutes().equals(perKey)) {
                returnWaiting(lane);
                lane.forgetWaiting(perKey);
              }
              lane.unavailableReason = reason;
            }
            lane.sweepWanted = true;
            lane.claimWanted = true;
            next.put(name, lane);
          }
          for (DestinationLane lane : lanes.values()) {
            if (!next.containsKey(lane.name)) {
              if (lane.destination != null) {
                replaced.add(lane.destination::close);
                LOG.warn("destination {} is held: {}", lane.name, REMOVED);
              }
              lane.rewire(lane.config, null, REMOVED, null, lane.retryPolicy);
              returnWaiting(lane);
              lane.forgetWaiting(lane.perKeyRoutes());
              next.put(lane.name, lane);
            }
          }
          this.enrichers.forEach(
              (name, enricher) -> {
                if (enrichers.get(name) != enricher) {
                  replaced.add(enricher::close);
                }
              });
          this.routes = Map.copyOf(routes);
          this.enrichers = Map.copyOf(enrichers);
          this.lanes = java.util.Collections.unmodifiableMap(next);
          Generation old = generation;
          generation = new Generation();
          old.retire(replaced);
          retired.removeIf(Generation::finished);
          if (!old.finished()) {
            retired.add(old);
          }
          return null;
        });
  }

  /**
   * At most {@code count} sends in any window of {@code per}: a bucket of one token refilled
   * smoothly, so sends are paced evenly and a burst never exceeds the rate.
   */
  private static Bucket bucket(long count, Duration per, Clock clock, int initialTokens) {
    TimeMeter meter =
        new TimeMeter() {
          @Override
          public long currentTimeNanos() {
            Instant now = clock.instant();
            return now.getEpochSecond() * 1_000_000_000L + now.getNano();
          }

          @Override
          public boolean isWallClockBased() {
            return true;
          }
        };
    Duration interval = per.dividedBy(count);
    if (interval.isZero()) {
      interval = Duration.ofNanos(1);
    }
    Duration every = interval;
    return Bucket.builder()
        .withCustomTimePrecision(meter)
        .addLimit(limit -> limit.capacity(1).refillGreedy(1, every).initialTokens(initialTokens))
        .build();
  }

  /**
   * Returns leases left by a previous run, loads paused flags, subscribes to new deliveries and
   * starts the loop. Call before ingest opens.
   */
  public void start() {
    int reaped = queue.singleNode() ? queue.reapAll() : queue.reapExpired(clock.instant());
    if (reaped > 0) {
      LOG.info("returned {} delivery(ies) left in flight by a previous run to pending", reaped);
    }
    for (String paused : queue.pausedDestinations()) {
      DestinationLane lane = lanes.get(paused);
      if (lane != null) {
        lane.paused = true;
      }
    }
    lanes.values().stream()
        .filter(l -> !l.available())
        .forEach(
            l ->
                LOG.warn(
                    "destination {} is held: {}; its deliveries wait",
                    l.name,
                    l.unavailableReason));
    if (claims) {
      // cluster mode: new work, here or on another node, only wakes the lane to claim it
      queue.onCommitted(list -> post(() -> list.forEach(d -> wake(d.destination()))));
      workListener = queue.onWork(destination -> post(() -> wake(destination)));
    } else {
      queue.onCommitted(list -> post(() -> offer(list)));
    }
    loop.start();
  }

  /** Cluster mode: {@code destination} (every one when null) may have work to claim. */
  private void wake(String destination) {
    if (destination == null) {
      lanes.values().forEach(l -> l.claimWanted = true);
      return;
    }
    DestinationLane lane = lanes.get(destination);
    if (lane != null) {
      lane.claimWanted = true;
    }
  }

  private void post(Runnable task) {
    mailbox.add(task);
  }

  private void offer(List<QueuedDelivery> deliveries) {
    for (QueuedDelivery d : deliveries) {
      DestinationLane lane = lanes.get(d.destination());
      if (lane != null && isDispatchable(d)) {
        lane.add(d);
      }
    }
  }

  /** A route whose enricher was not built waits for a configuration that has it. */
  private boolean isDispatchable(QueuedDelivery d) {
    RouteConfig route = routes.get(d.route());
    return route == null || route.enrich() == null || enrichers.containsKey(route.enrich().using());
  }

  // ---------------------------------------------------------------- the loop

  private void run() {
    long pollNanos = settings.pollInterval().toNanos();
    long nextPoll = System.nanoTime();
    long nextSweep = System.nanoTime() + settings.sweepInterval().toNanos();
    long nextReap = System.nanoTime() + settings.reapInterval().toNanos();
    long nextExpiry = nextSweep;
    long waitNanos = 0;
    while (!stopping) {
      try {
        Runnable task = mailbox.poll(waitNanos, TimeUnit.NANOSECONDS);
        int drained = 0;
        while (task != null) {
          runQuietly(task);
          task = ++drained < 10_000 ? mailbox.poll() : null;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      long nowNanos = System.nanoTime();
      if (nowNanos - nextPoll >= 0) {
        nextPoll = nowNanos + pollNanos;
        if (claims) {
          wake(null); // retries that came due, work another node handed back
        } else {
          lanes.values().forEach(this::scanRetries);
        }
      }
      if (cluster != null) {
        cluster.tick(nowNanos, this::rescaleRates);
      }
      if (!claims && nowNanos - nextSweep >= 0) {
        nextSweep = nowNanos + settings.sweepInterval().toNanos();
        for (DestinationLane lane : lanes.values()) {
          lane.sweepWanted = true;
          lane.recheckHeldKeys();
        }
      }
      if (nowNanos - nextReap >= 0) {
        nextReap = nowNanos + settings.reapInterval().toNanos();
        workers.execute(this::reapAndRenew);
      }
      if (nowNanos - nextExpiry >= 0) {
        nextExpiry = nowNanos + settings.sweepInterval().toNanos();
        held.expire(lanes.values(), clock.instant());
      }
      Instant now = clock.instant();
      waitNanos = Math.max(0, nextPoll - System.nanoTime());
      for (DestinationLane lane : lanes.values()) {
        waitNanos = Math.min(waitNanos, pump(lane, now));
        if (claims) {
          waitNanos = Math.min(waitNanos, claimFor(lane, now));
        } else if (lane.sweepWanted || (lane.overflow && lane.waiting() < lane.capacity / 2)) {
          scanPending(lane);
        }
      }
    }
  }

  private static void runQuietly(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      LOG.error("dispatcher task failed", e);
    }
  }

  /**
   * Starts what may start on a lane; returns how long until something held back by time (rate
   * limit) may go, or Long.MAX_VALUE.
   */
  private long pump(DestinationLane lane, Instant now) {
    if (!lane.available() || lane.paused || now.isBefore(lane.pausedUntil)) {
      return Long.MAX_VALUE;
    }
    if (claimsRefused) {
      long hold = claimsResumeAt - System.nanoTime();
      if (hold > 0 && lane.waiting() > 0) {
        return hold; // the store refuses claims: try again after the back-off, not before
      }
    }
    while (lane.running < lane.config.concurrency() && lane.waiting() > 0) {
      if (!lane.breaker.allows(now)) {
        return Long.MAX_VALUE;
      }
      if (cluster != null
          && lane.breaker.state() == CircuitBreaker.State.HALF_OPEN
          && !cluster.mayProbe(lane, now)) {
        return Long.MAX_VALUE;
      }
      if (lane.rate != null && lane.rate.getAvailableTokens() < 1) {
        return Math.max(
            1_000_000L, lane.rate.estimateAbilityToConsume(1).getNanosToWaitForRefill());
      }
      // one request carries up to the connector's batch size, never two of one key (the lane
      // hands out one delivery per key at a time); the rate limit and concurrency count requests
      Destination connector = lane.destination;
      int most = Math.max(1, connector.batchSize());
      List<QueuedDelivery> batch = new ArrayList<>(Math.min(most, 16));
      for (QueuedDelivery d; batch.size() < most && (d = lane.take()) != null; ) {
        batch.add(d);
      }
      if (batch.isEmpty()) {
        return Long.MAX_VALUE;
      }
      if (lane.rate != null) {
        lane.rate.tryConsume(1);
      }
      lane.running++;
      lane.breaker.admitted();
      Generation started = generation;
      started.enter();
      attemptsRunning.incrementAndGet();
      workers.execute(
          () -> {
            try {
              attempt(lane, connector, batch);
            } finally {
              attemptsRunning.decrementAndGet();
              started.leave();
            }
          });
    }
    return Long.MAX_VALUE;
  }

  private void scanRetries(DestinationLane lane) {
    int room = lane.capacity - lane.known.size();
    if (room <= 0) {
      return;
    }
    Instant now = clock.instant();
    lane.scanStarted();
    workers.execute(
        () -> {
          try {
            List<QueuedDelivery> due =
                queue.scan(
                    lane.name,
                    DeliveryState.RETRY_SCHEDULED,
                    now,
                    null,
                    Long.MIN_VALUE,
                    Math.min(room, settings.scanBatch()));
            post(
                () -> {
                  due.stream()
                      .filter(d -> isDispatchable(d) && !lane.finishedDuringScan(d.id()))
                      .forEach(lane::add);
                  lane.scanEnded();
                });
          } catch (RuntimeException e) {
            LOG.warn("could not scan retries of {}: {}", lane.name, e.getMessage());
            post(lane::scanEnded);
          }
        });
  }

  /**
   * Reads pending work memory does not hold, from the lane's cursor (from the start on a sweep).
   */
  private void scanPending(DestinationLane lane) {
    if (lane.scanning) {
      return;
    }
    lane.scanning = true;
    lane.scanStarted();
    if (lane.sweepWanted) {
      lane.sweepWanted = false;
      lane.cursorTime = null;
      lane.cursorSeq = Long.MIN_VALUE;
    }
    Instant after = lane.cursorTime;
    long afterSeq = lane.cursorSeq;
    Instant now = clock.instant();
    int limit = settings.scanBatch();
    workers.execute(
        () -> {
          List<QueuedDelivery> rows;
          try {
            rows = queue.scan(lane.name, DeliveryState.PENDING, now, after, afterSeq, limit);
          } catch (RuntimeException e) {
            LOG.warn("could not scan pending deliveries of {}: {}", lane.name, e.getMessage());
            post(
                () -> {
                  lane.scanning = false;
                  lane.scanEnded();
                });
            return;
          }
          post(() -> takeScan(lane, rows, limit));
        });
  }

  private void takeScan(DestinationLane lane, List<QueuedDelivery> rows, int limit) {
    lane.scanning = false;
    boolean full = false;
    for (QueuedDelivery d : rows) {
      if (lane.finishedDuringScan(d.id())) {
        continue;
      }
      if (isDispatchable(d) && !lane.add(d)) {
        full = true;
        break;
      }
      lane.cursorTime = d.nextAttemptAt();
      lane.cursorSeq = d.seq();
    }
    lane.scanEnded();
    if (!full && rows.size() < limit) {
      // read to the end: memory holds everything that was waiting
      lane.overflow = false;
      lane.cursorTime = null;
      lane.cursorSeq = Long.MIN_VALUE;
    } else {
      lane.overflow = true;
    }
  }

  /**
   * Cluster mode: claims from the store what the lane can start now and next (free slots times the
   * batch size, plus one round more without a rate limit, less what already waits), when it may
   * have work and nothing holds it back. Claimed deliveries wait in memory under a lease the
   * heartbeat renews; ordering per key is the claim's.
   */
  private long claimFor(DestinationLane lane, Instant now) {
    if (!lane.claimWanted
        || lane.claiming
        || !lane.available()
        || lane.paused
        || now.isBefore(lane.pausedUntil)
        || !lane.breaker.allows(now)) {
      return Long.MAX_VALUE;
    }
    boolean probe = lane.breaker.state() == CircuitBreaker.State.HALF_OPEN;
    if (probe && cluster != null && !cluster.mayProbe(lane, now)) {
      return Long.MAX_VALUE; // another node probes: claim nothing to hold under a lease meanwhile
    }
    if (lane.rate != null && lane.rate.getAvailableTokens() < 1) {
      // claim when the next request may go, not before: nothing waits under a lease meanwhile
      return Math.max(1_000_000L, lane.rate.estimateAbilityToConsume(1).getNanosToWaitForRefill());
    }
    int most = Math.max(1, lane.destination.batchSize());
    // without a rate limit, up to one round beyond the free slots waits in memory under the lease:
    // the next slots to free start at once, and each claim (a statement with a fixed cost) takes
    // more rows; under a rate limit the claimed would only wait, held from the other nodes
    int rounds = lane.rate == null ? 2 : 1;
    int want = (rounds * lane.config.concurrency() - lane.running) * most - lane.waiting();
    if (want <= 0) {
      return Long.MAX_VALUE;
    }
    int limit = probe ? Math.min(want, 1) : Math.min(want, settings.scanBatch());
    lane.claiming = true;
    lane.claimWanted = false;
    claimsOut.incrementAndGet();
    String token = newToken();
    Set<String> blocking = new HashSet<>();
    Set<String> held = new HashSet<>();
    for (RouteConfig r : routes.values()) {
      if (r.to().equals(lane.name) && r.onDead() == RouteConfig.OnDead.BLOCK) {
        blocking.add(r.name());
      }
      if (r.to().equals(lane.name)
          && r.enrich() != null
          && !enrichers.containsKey(r.enrich().using())) {
        held.add(r.name()); // waits for a configuration that has its enricher
      }
    }
    CompletableFuture<List<QueuedDelivery>> claim;
    try {
      claim =
          queue.claimDue(
              lane.name,
              lane.perKeyRoutes(),
              blocking,
              held,
              limit,
              token,
              now,
              now.plus(leaseFor(lane.config)));
    } catch (RuntimeException e) {
      lane.claiming = false;
      claimsOut.decrementAndGet();
      LOG.warn("could not claim deliveries of {}: {}", lane.name, e.getMessage());
      return Long.MAX_VALUE;
    }
    claim.whenComplete(
        (rows, error) -> {
          if (error != null) {
            claimsOut.decrementAndGet();
            LOG.warn("could not claim deliveries of {}: {}", lane.name, error.toString());
            post(() -> lane.claiming = false); // the next poll tries again
            return;
          }
          long nanos = System.nanoTime();
          rows.forEach(d -> leases.put(d.id(), new Lease(token, nanos)));
          claimsOut.decrementAndGet(); // after the leases: shutdown waits for them
          post(() -> tookClaim(lane, rows, limit));
        });
    return Long.MAX_VALUE;
  }

  private void tookClaim(DestinationLane lane, List<QueuedDelivery> rows, int limit) {
    lane.claiming = false;
    List<QueuedDelivery> back = new ArrayList<>();
    for (QueuedDelivery d : rows) {
      if (stopping || lane.paused || !lane.available() || !isDispatchable(d) || !lane.add(d)) {
        back.add(d);
      }
    }
    unclaim(back);
    if (rows.size() >= limit && back.isEmpty()) {
      lane.claimWanted = true; // there may be more
    }
  }

  /** Cluster mode: hands what waits in the lane back to the store, for any node to claim. */
  private void returnWaiting(DestinationLane lane) {
    if (claims) {
      unclaim(lane.dropWaiting());
    }
  }

  private void unclaim(List<QueuedDelivery> deliveries) {
    Map<DeliveryId, String> back = new LinkedHashMap<>();
    for (QueuedDelivery d : deliveries) {
      Lease lease = leases.get(d.id());
      if (lease != null) {
        back.put(d.id(), lease.token());
      }
    }
    if (back.isEmpty()) {
      return;
    }
    // the leases are dropped once written (or not: then they expire and are reaped)
    queue
        .unclaim(back, clock.instant())
        .whenComplete((n, error) -> back.keySet().forEach(leases::remove));
  }

  private void reapAndRenew() {
    try {
      int reaped = queue.reapExpired(clock.instant());
      if (reaped > 0) {
        LOG.info("returned {} delivery(ies) with an expired lease to pending", reaped);
        post(() -> lanes.values().forEach(l -> l.sweepWanted = l.claimWanted = true));
      }
      long renewBefore = System.nanoTime() - settings.reapInterval().toNanos();
      Map<DeliveryId, String> old = new LinkedHashMap<>();
      leases.forEach(
          (id, lease) -> {
            if (lease.claimedNanos() - renewBefore < 0) {
              old.put(id, lease.token());
            }
          });
      if (!old.isEmpty()) {
        queue.renew(old, clock.instant().plus(longestLease())).join();
      }
    } catch (RuntimeException e) {
      LOG.warn("lease housekeeping failed: {}", e.getMessage());
    }
  }

  private Duration longestLease() {
    return lanes.values().stream()
        .map(l -> leaseFor(l.config))
        .max(Duration::compareTo)
        .orElse(Duration.ofMinutes(2));
  }

  /** The first wait before writing an outcome again, doubled each time up to the next. */
  private static final long OUTCOME_RETRY_FIRST_MS = 100;

  private static final long OUTCOME_RETRY_MAX_MS = 2_000;

  /**
   * Writes an attempt's outcome. If the write fails (a full disk, a locked or unreachable store),
   * the outcome is kept and written again, with backoff, while the lease is ours and the dispatcher
   * runs: the attempt was made, and recording it when the store is back is better than leaving the
   * delivery in flight until its lease runs out and sending it again. The lease stays in {@link
   * #leases} meanwhile (so the heartbeat renews it) and the delivery stays running in its lane (so
   * its key's next delivery waits). The token fences a late write: one whose lease was reaped and
   * claimed again is refused ({@code written} false) like any lost lease. Given up (left in the
   * store, to be reaped and sent again with the same idempotency key) once the failures have lasted
   * a lease, or on shutdown.
   *
   * <p>On a single node the request may have gone before its claim committed; if the store refused
   * that claim, the claim is written again (with the same token) before the outcome, so that the
   * attempt made is recorded rather than made again.
   */
  private void writeOutcome(
      DestinationLane lane, Claimed c, Finish finish, int failures, long firstTryNanos) {
    QueuedDelivery d = c.d();
    CompletableFuture<Boolean> claim = c.unconfirmed();
    CompletableFuture<Boolean> write =
        claim == null
            ? queue.finish(finish, clock.instant())
            : claim
                .handle((held, refused) -> refused == null)
                .thenCompose(
                    committed -> {
                      if (committed) {
                        return queue.finish(finish, clock.instant());
                      }
                      // at the first claim's time, which the delivery was due at (a clock stepped
                      // back since cannot make it look not due); refused (0 rows) when an earlier
                      // try's claim already committed: the token then fences the outcome as usual
                      return queue
                          .claim(
                              d.id(),
                              c.token(),
                              c.claimedAt(),
                              clock.instant().plus(leaseFor(lane.config)))
                          .thenCompose(again -> queue.finish(finish, clock.instant()));
                    });
    write.whenComplete(
        (written, error) -> {
          if (error != null) {
            long failingNanos = System.nanoTime() - firstTryNanos;
            if (!stopping && failingNanos < leaseFor(lane.config).toNanos()) {
              if (failures == 0) {
                LOG.warn(
                    "delivery {} to {}: outcome not written, writing it again until the store"
                        + " takes it: {}",
                    d.id(),
                    lane.name,
                    error.toString());
              } else {
                LOG.debug(
                    "delivery {} to {}: outcome still not written (try {})",
                    d.id(),
                    lane.name,
                    failures + 1);
              }
              long wait =
                  Math.min(OUTCOME_RETRY_MAX_MS, OUTCOME_RETRY_FIRST_MS << Math.min(failures, 10));
              CompletableFuture.delayedExecutor(wait, TimeUnit.MILLISECONDS)
                  .execute(() -> writeOutcome(lane, c, finish, failures + 1, firstTryNanos));
              return;
            }
            leases.remove(d.id());
            LOG.warn(
                "delivery {} to {}: outcome not written after {} tries, left in the store for"
                    + " later: {}",
                d.id(),
                lane.name,
                failures + 1,
                error.toString());
            post(
                () -> {
                  lane.release(d, false, false);
                  lane.sweepWanted = true;
                });
            return;
          }
          leases.remove(d.id());
          if (failures > 0) {
            LOG.info(
                "delivery {} to {}: outcome written after {} failed tries",
                d.id(),
                lane.name,
                failures);
          }
          if (!written) {
            LOG.warn("delivery {} lost its lease before its outcome was written", d.id());
          }
          post(() -> finished(lane, d, finish, written));
        });
  }

  /** Long enough for the slowest attempt, and for the heartbeat to renew it several times. */
  private Duration leaseFor(DestinationConfig config) {
    return config.timeout().multipliedBy(2).plus(settings.reapInterval().multipliedBy(3));
  }

  // ---------------------------------------------------------------- one attempt

  /** What an attempt came to: the outcome to write, and the answer if a request was made. */
  private record Attempted(Finish finish, DeliveryResult result) {}

  /**
   * What a route sends for an event, for the operator: the route's current transform over the
   * stored (redacted) payload, or the payload itself when it has none.
   *
   * @param body the JSON text, or null when it cannot be shown here
   * @param note why there is no body, or null
   */
  public record BodyPreview(String body, String note) {}

  /** The body the route makes of the event with the configuration running now. */
  public BodyPreview preview(Event event, String routeName) {
    RouteConfig route = routes.get(routeName);
    if (route == null) {
      return new BodyPreview(null, "the route is no longer configured");
    }
    if (route.enrich() != null) {
      return new BodyPreview(
          null, "made at delivery time from the " + route.enrich().using() + " lookup");
    }
    QueuedDelivery d =
        new QueuedDelivery(
            null,
            event.id(),
            event.source(),
            routeName,
            route.to(),
            event.partitionKey(),
            event.eventTime(),
            event.receivedAt(),
            0,
            DeliveryState.PENDING,
            0,
            null,
            event.receivedAt(),
            event.payload(),
            event.headers());
    try {
      return new BodyPreview(new String(body(route, d), StandardCharsets.UTF_8), null);
    } catch (RuntimeException e) {
      return new BodyPreview(null, "transform failed: " + e.getMessage());
    }
  }

  /** A delivery this process holds the lease of, for one attempt. */
  /**
   * A delivery this process holds the lease of, for one attempt; {@code unconfirmed} is the claim's
   * write when the attempt did not wait for it (single node), else null.
   */
  private record Claimed(
      QueuedDelivery d,
      RouteConfig route,
      String token,
      Instant claimedAt,
      CompletableFuture<Boolean> unconfirmed) {}

  /** Single node: the wait before attempts start again after the n-th claim refused in a row. */
  private static long claimBackoffMillis(int refusedInARow) {
    return Math.min(CLAIM_RETRY_MAX_MS, CLAIM_RETRY_FIRST_MS << Math.min(refusedInARow, 10));
  }

  private static final long CLAIM_RETRY_FIRST_MS = 100;

  private static final long CLAIM_RETRY_MAX_MS = 5_000;

  /** Single node: the store refused a claim; attempts hold back, and wait for their claims. */
  private void claimRefused(DestinationLane lane, Throwable error) {
    int inARow = claimRefusals.getAndIncrement();
    long waitMillis = claimBackoffMillis(inARow);
    claimsResumeAt = System.nanoTime() + waitMillis * 1_000_000L;
    claimsRefused = true;
    LOG.debug("claim refused ({} in a row); attempts start again in {} ms", inARow + 1, waitMillis);
    claimRefusedLog.log(
        skipped ->
            LOG.warn(
                "the store refused to claim a delivery of {}; deliveries wait for it, nothing is"
                    + " sent until a claim commits: {}{}",
                lane.name,
                rootMessage(error),
                LogThrottle.more(skipped)));
  }

  /** Single node: a claim committed; attempts go without waiting for their claims again. */
  private void claimTaken() {
    if (claimsRefused) {
      claimsRefused = false;
      claimRefusals.set(0);
      LOG.info("the store takes claims again; deliveries resume");
    }
  }

  private static String rootMessage(Throwable error) {
    Throwable t = error;
    while ((t instanceof java.util.concurrent.CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t.toString();
  }

  /**
   * Runs on a virtual thread: claims the batch's deliveries, makes at most one request for them
   * all, and reports back to the loop through the mailbox. The batch holds one concurrency slot.
   */
  private void attempt(DestinationLane lane, Destination connector, List<QueuedDelivery> batch) {
    List<QueuedDelivery> open = new ArrayList<>(batch); // not yet handed back to the loop
    boolean slotReturned = false;
    try {
      List<Claimed> claimed = new ArrayList<>(batch.size());
      for (QueuedDelivery d : batch) {
        RouteConfig route = routes.get(d.route());
        if (claims) {
          // claimed from the store before it came to memory (claimFor), in per-key order
          Lease lease = leases.get(d.id());
          if (lease == null) {
            open.remove(d);
            post(() -> lane.release(d, false, false));
            continue;
          }
          claimed.add(new Claimed(d, route, lease.token(), clock.instant(), null));
          continue;
        }
        if (lane.keyOf(d) != null) {
          boolean block = route != null && route.onDead() == RouteConfig.OnDead.BLOCK;
          Optional<QueuedDelivery> earlier = queue.earlierUnfinished(d, block);
          if (earlier.isPresent()) {
            QueuedDelivery e = earlier.get();
            boolean due =
                e.state() == DeliveryState.PENDING
                    || (e.state() == DeliveryState.RETRY_SCHEDULED
                        && !e.nextAttemptAt().isAfter(clock.instant()));
            open.remove(d);
            post(() -> lane.blockedBy(d, e, due));
            continue;
          }
        }
        Instant claimedAt = clock.instant();
        String token = newToken();
        CompletableFuture<Boolean> claim =
            queue.claim(d.id(), token, claimedAt, claimedAt.plus(leaseFor(lane.config)));
        // Here the store is this process's alone (cluster mode claimed above), and memory knows
        // the claim will hold (nothing else claims, and scans never hand back what memory is
        // running or just finished), so the request need not wait for the claim's commit: the
        // outcome, written after it in the same queue, is fenced by the token all the same, and a
        // crash before the claim commits leaves the delivery pending, to be sent again with the
        // same idempotency key. While the store refuses claims (a full disk) each attempt waits
        // for its claim instead, so that nothing is sent that the store could not record, and
        // waits for as long as the store takes to answer: a claim given up on could still commit
        // later, under a token nothing renews or finishes (the writer answers every claim, and
        // fails those left when it closes).
        CompletableFuture<Boolean> unconfirmed = null;
        if (claimsRefused) {
          boolean held;
          try {
            held = claim.get();
          } catch (java.util.concurrent.ExecutionException refused) {
            claimRefused(lane, refused);
            held = false;
          }
          if (!held) {
            open.remove(d);
            post(
                () -> {
                  lane.release(d, false, false);
                  lane.sweepWanted = true;
                });
            continue;
          }
          claimTaken();
        } else {
          unconfirmed = claim;
          claim.whenComplete(
              (held, refused) -> {
                if (refused != null) {
                  claimRefused(lane, refused);
                } else {
                  claimTaken();
                }
              });
        }
        leases.put(d.id(), new Lease(token, System.nanoTime()));
        claimed.add(new Claimed(d, route, token, claimedAt, unconfirmed));
      }
      List<Attempted> attempted;
      try {
        attempted = attemptClaimed(lane, connector, claimed);
      } catch (RuntimeException e) {
        claimed.forEach(c -> leases.remove(c.d().id()));
        throw e;
      }
      slotReturned = true;
      DeliveryResult signal = signal(attempted);
      post(() -> afterSend(lane, signal));
      for (int i = 0; i < claimed.size(); i++) {
        Claimed c = claimed.get(i);
        QueuedDelivery d = c.d();
        Finish finish = attempted.get(i).finish();
        open.remove(d);
        // the worker does not wait: the outcome's commit (or failure) reports to the loop itself
        writeOutcome(lane, c, finish, 0, System.nanoTime());
      }
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      LOG.warn(
          "{} delivery(ies) to {} not completed, left in the store for later: {}",
          open.size(),
          lane.name,
          e.toString());
      open.forEach(d -> leases.remove(d.id())); // no heartbeat for what this worker gave up
      boolean returnSlot = !slotReturned;
      post(
          () -> {
            if (returnSlot) {
              noAttempt(lane);
            }
            open.forEach(d -> lane.release(d, false, false));
            lane.sweepWanted = true;
          });
    }
  }

  /**
   * What one request tells about the destination as a whole (breaker, pause), or null when no
   * request was made: it failed only if every delivery in it is to be tried again; the longest wait
   * asked for applies.
   */
  static DeliveryResult signal(List<Attempted> attempted) {
    DeliveryResult first = null;
    DeliveryResult.RetryLater longestRetry = null;
    DeliveryResult.Delivered longestPause = null;
    boolean allRetry = true;
    for (Attempted a : attempted) {
      DeliveryResult r = a.result();
      if (r == null) {
        continue;
      }
      first = first == null ? r : first;
      if (r instanceof DeliveryResult.RetryLater retry) {
        if (longestRetry == null || longer(retry.retryAfter(), longestRetry.retryAfter())) {
          longestRetry = retry;
        }
      } else {
        allRetry = false;
        if (r instanceof DeliveryResult.Delivered ok
            && (longestPause == null || longer(ok.pauseFor(), longestPause.pauseFor()))) {
          longestPause = ok;
        }
      }
    }
    if (first == null) {
      return null;
    }
    if (allRetry) {
      return longestRetry;
    }
    Duration wait = longestRetry == null ? null : longestRetry.retryAfter();
    if (longestPause != null && longer(longestPause.pauseFor(), wait)) {
      wait = longestPause.pauseFor();
    }
    return new DeliveryResult.Delivered(200, null, wait);
  }

  private static Duration longest(Duration a, Duration b) {
    return longer(b, a) ? b : a;
  }

  private static boolean longer(Duration a, Duration b) {
    return a != null && (b == null || a.compareTo(b) > 0);
  }

  /**
   * Everything between the claims and the outcomes: builds each body, makes at most one request for
   * those that need one, and decides each outcome; one result per claimed delivery, in order.
   */
  private List<Attempted> attemptClaimed(
      DestinationLane lane, Destination connector, List<Claimed> claimed) {
    Attempted[] done = new Attempted[claimed.size()];
    List<Integer> sending = new ArrayList<>(claimed.size());
    List<OutboundDelivery> outbound = new ArrayList<>(claimed.size());
    for (int i = 0; i < claimed.size(); i++) {
      Claimed c = claimed.get(i);
      QueuedDelivery d = c.d();
      String token = c.token();
      if (c.route() == null) {
        done[i] =
            new Attempted(
                new Finish.Dead(
                    d.id(),
                    token,
                    null,
                    "route " + d.route() + " is no longer configured",
                    "config"),
                null);
        continue;
      }
      if (lane.keyOf(d) != null && c.route().stale() == RouteConfig.Stale.SKIP) {
        RouteKey routeKey = new RouteKey(d.route(), d.partitionKey());
        Instant newest = watermark(routeKey);
        if (claims && (newest == null || !d.eventTime().isBefore(newest))) {
          // another node may have delivered a newer event of the key: memory cannot know
          newest = queue.watermark(routeKey.route(), routeKey.key()).orElse(null);
          if (newest != null) {
            remember(routeKey, newest);
          }
        }
        if (newest != null && d.eventTime().isBefore(newest)) {
          done[i] =
              new Attempted(
                  new Finish.Skipped(
                      d.id(),
                      token,
                      "stale: an event of " + newest + " was already delivered for this key"),
                  null);
          continue;
        }
      }
      Object prepared = prepare(lane, c);
      if (prepared instanceof Attempted early) {
        done[i] = early;
        continue;
      }
      byte[] body = (byte[]) prepared;
      sending.add(i);
      outbound.add(
          new OutboundDelivery(
              d.id().value(),
              d.eventId().value(),
              d.id().value(),
              d.partitionKey(),
              body,
              Map.of(),
              d.attempts() + 1));
    }
    if (!outbound.isEmpty()) {
      Instant started = clock.instant();
      long t0 = System.nanoTime();
      List<DeliveryResult> results = send(lane.name, connector, outbound);
      Duration took = Duration.ofNanos(System.nanoTime() - t0);
      for (int j = 0; j < sending.size(); j++) {
        int i = sending.get(j);
        Claimed c = claimed.get(i);
        DeliveryResult result = results.get(j);
        done[i] =
            new Attempted(
                decide(
                    lane,
                    c.route(),
                    c.d(),
                    c.token(),
                    c.claimedAt(),
                    lane.keyOf(c.d()) != null,
                    outbound.get(j).attempt(),
                    started,
                    took,
                    result),
                result);
      }
    }
    return List.of(done);
  }

  /** One request; a connector's bug becomes a retry of every delivery in it. */
  private static List<DeliveryResult> send(
      String name, Destination connector, List<OutboundDelivery> outbound) {
    try {
      List<DeliveryResult> results =
          outbound.size() == 1
              ? List.of(connector.send(outbound.get(0)))
              : connector.sendBatch(outbound);
      if (results.size() != outbound.size() || results.stream().anyMatch(r -> r == null)) {
        throw new IllegalStateException(
            results.size() + " result(s) for " + outbound.size() + " deliveries");
      }
      return results;
    } catch (RuntimeException e) {
      LOG.error("connector {} failed on {} delivery(ies)", name, outbound.size(), e);
      DeliveryResult failed =
          new DeliveryResult.RetryLater(
              "connector error: " + e.getClass().getSimpleName(), 0, null, null);
      return java.util.Collections.nCopies(outbound.size(), failed);
    }
  }

  private Finish decide(
      DestinationLane lane,
      RouteConfig route,
      QueuedDelivery d,
      String token,
      Instant claimedAt,
      boolean perKey,
      int number,
      Instant started,
      Duration took,
      DeliveryResult result) {
    Instant now = clock.instant();
    switch (result) {
      case DeliveryResult.Delivered ok -> {
        Finish.Watermark mark =
            perKey && route.stale() == RouteConfig.Stale.SKIP
                ? new Finish.Watermark(d.route(), d.partitionKey(), d.eventTime())
                : null;
        return new Finish.Delivered(
            d.id(),
            token,
            new AttemptRecord(
                number, started, took, ok.status(), "delivered", null, cut(ok.excerpt())),
            mark);
      }
      case DeliveryResult.RetryLater retry -> {
        return retryOrDie(lane, d, token, claimedAt, number, started, took, retry, now);
      }
      case DeliveryResult.Rejected no -> {
        if (lane.config.retry().retryOn().contains(no.status())) {
          return retryOrDie(
              lane,
              d,
              token,
              claimedAt,
              number,
              started,
              took,
              new DeliveryResult.RetryLater(no.error(), no.status(), null, no.excerpt()),
              now);
        }
        return new Finish.Dead(
            d.id(),
            token,
            new AttemptRecord(
                number, started, took, no.status(), "dead", no.error(), cut(no.excerpt())),
            no.error(),
            errorClass(no.status(), no.error()));
      }
    }
  }

  private Finish retryOrDie(
      DestinationLane lane,
      QueuedDelivery d,
      String token,
      Instant claimedAt,
      int number,
      Instant started,
      Duration took,
      DeliveryResult.RetryLater retry,
      Instant now) {
    Instant firstAttemptAt = d.firstAttemptAt() == null ? claimedAt : d.firstAttemptAt();
    Duration asked = lane.capServerWait(retry.retryAfter());
    RetryPolicy.Decision decision =
        lane.retryPolicy.next(number, firstAttemptAt, now, longest(asked, retry.notBefore()));
    String errorClass = errorClass(retry.status(), retry.error());
    return switch (decision) {
      case RetryPolicy.RetryAt at ->
          new Finish.Retry(
              d.id(),
              token,
              new AttemptRecord(
                  number,
                  started,
                  took,
                  retry.status(),
                  "retry",
                  retry.error(),
                  cut(retry.excerpt())),
              at.at(),
              errorClass);
      case RetryPolicy.GiveUp giveUp ->
          new Finish.Dead(
              d.id(),
              token,
              new AttemptRecord(
                  number,
                  started,
                  took,
                  retry.status(),
                  "dead",
                  retry.error(),
                  cut(retry.excerpt())),
              giveUp.reason() + "; last error: " + retry.error(),
              errorClass);
    };
  }

  /** Coarse class of an error, for bulk replay by error. */
  static String errorClass(int status, String error) {
    if (status == 429) {
      return "http_429";
    } else if (status >= 500) {
      return "http_5xx";
    } else if (status >= 400) {
      return "http_4xx";
    } else if (status > 0) {
      return "http_other";
    } else if (error != null && error.startsWith("timeout")) {
      return "timeout";
    } else if (error != null && error.startsWith("connection")) {
      return "connection";
    } else if (error != null && error.startsWith(INTERNAL)) {
      return "internal";
    }
    return "error";
  }

  private static String cut(String excerpt) {
    if (excerpt == null || excerpt.length() <= MAX_EXCERPT) {
      return excerpt;
    }
    return excerpt.substring(0, MAX_EXCERPT) + "…";
  }

  private Instant watermark(RouteKey key) {
    Instant cached = watermarks.get(key);
    if (cached != null) {
      return cached;
    }
    Instant stored = queue.watermark(key.route(), key.key()).orElse(null);
    if (stored != null) {
      remember(key, stored);
    }
    return stored;
  }

  private void remember(RouteKey key, Instant eventTime) {
    if (watermarks.size() > 200_000) {
      watermarks.clear(); // a cache: the store has every watermark
    }
    watermarks.merge(key, eventTime, (a, b) -> a.isAfter(b) ? a : b);
  }

  /**
   * The body to send, or the outcome that ends the attempt before any request: the enrichment
   * lookup (which may retry, dead-letter, or let a filter that reads it skip the delivery), then
   * the transform. Every failure ends as a recorded attempt with an error class: an expression that
   * fails at evaluation fails the same way every time and is dead-lettered at once; anything else
   * that throws (an enricher's bug, an input nothing classified) is tried again like any failure,
   * so the destination's retry limits and the dead-letter queue apply.
   */
  private Object prepare(DestinationLane lane, Claimed c) {
    Instant started = clock.instant();
    long t0 = System.nanoTime();
    try {
      return prepareOrThrow(lane, c, started, t0);
    } catch (RuntimeException e) {
      QueuedDelivery d = c.d();
      String step = "prepare";
      boolean sameEveryTime = false;
      if (e instanceof StepFailed failed) {
        step = failed.step;
        sameEveryTime = failed.sameEveryTime;
        e = (RuntimeException) failed.getCause();
      }
      if (sameEveryTime) {
        String error = step + " failed: " + e.getMessage();
        return new Attempted(
            new Finish.Dead(
                d.id(),
                c.token(),
                new AttemptRecord(d.attempts() + 1, started, since(t0), 0, "dead", error, null),
                error,
                step),
            null);
      }
      // the class and where it was thrown, never the message: it may quote the payload
      StackTraceElement[] at = e.getStackTrace();
      LOG.warn(
          "attempt of delivery {} on route {} failed in {}: {}{}",
          d.id().value(),
          d.route(),
          step,
          e.getClass().getName(),
          at.length == 0 ? "" : " at " + at[0]);
      return new Attempted(
          retryOrDie(
              lane,
              d,
              c.token(),
              c.claimedAt(),
              d.attempts() + 1,
              started,
              since(t0),
              new DeliveryResult.RetryLater(
                  INTERNAL + " in " + step + ": " + e.getClass().getSimpleName(), 0, null, null),
              clock.instant()),
          null);
    }
  }

  private static Duration since(long t0) {
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  /**
   * What threw, and in which step of the attempt; {@code sameEveryTime} for an expression that
   * fails at evaluation or a payload or result that is not JSON, which no retry can cure.
   */
  private static final class StepFailed extends RuntimeException {
    final String step;
    final boolean sameEveryTime;

    StepFailed(String step, RuntimeException cause, boolean sameEveryTime) {
      super(cause);
      this.step = step;
      this.sameEveryTime = sameEveryTime;
    }

    /** The route's own evaluation failed: an expression error, or no JSON in or out. */
    static StepFailed evaluating(String step, RuntimeException cause) {
      return new StepFailed(
          step,
          cause,
          cause instanceof ExpressionException || cause instanceof IllegalArgumentException);
    }
  }

  private Object prepareOrThrow(DestinationLane lane, Claimed c, Instant started, long t0) {
    QueuedDelivery d = c.d();
    RouteConfig route = c.route();
    if (route.enrich() == null) {
      try {
        return body(route, d);
      } catch (RuntimeException e) {
        throw StepFailed.evaluating("transform", e);
      }
    }
    Object input;
    Map<String, Object> bindings = bindings(d);
    String path;
    try {
      input = JSON.readValue(d.payload(), Object.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw StepFailed.evaluating(
          "enrich",
          new IllegalArgumentException(
              "the stored payload is not JSON: " + e.getOriginalMessage(), e));
    }
    try {
      path = route.enrich().path().render(input, bindings);
    } catch (RuntimeException e) {
      throw StepFailed.evaluating("enrich", e);
    }
    Enricher enricher = enrichers.get(route.enrich().using());
    Enricher.Lookup lookup;
    try {
      lookup = enricher.get(path);
    } catch (RuntimeException e) {
      throw new StepFailed("enrich", e, false); // the enricher's bug, not the route's
    }
    Duration took = since(t0);
    int number = d.attempts() + 1;
    switch (lookup) {
      case Enricher.Lookup.Found found -> bindings.put(route.enrich().as(), found.value());
      case Enricher.Lookup.RetryLater later -> {
        // the enricher's wait is this delivery's, not the destination's: no breaker, no pause
        return new Attempted(
            retryOrDie(
                lane,
                d,
                c.token(),
                c.claimedAt(),
                number,
                started,
                took,
                new DeliveryResult.RetryLater(
                    "enrich: " + later.error(), later.status(), later.retryAfter(), null),
                clock.instant()),
            null);
      }
      case Enricher.Lookup.Failed failed -> {
        String error = "enrich failed: " + failed.error();
        return new Attempted(
            new Finish.Dead(
                d.id(),
                c.token(),
                new AttemptRecord(number, started, took, failed.status(), "dead", error, null),
                error,
                "enrich"),
            null);
      }
    }
    try {
      if (route.whenNeedsEnrichment() && !route.when().test(input, bindings)) {
        return new Attempted(
            new Finish.Skipped(d.id(), c.token(), "filtered: when is false"), null);
      }
    } catch (RuntimeException e) {
      throw StepFailed.evaluating("filter", e);
    }
    try {
      return transform(route, input, bindings, d);
    } catch (RuntimeException e) {
      throw StepFailed.evaluating("transform", e);
    }
  }

  static byte[] body(RouteConfig route, QueuedDelivery d) {
    if (route.transform() == null) {
      return d.payload().getBytes(StandardCharsets.UTF_8);
    }
    try {
      return transform(route, JSON.readValue(d.payload(), Object.class), bindings(d), d);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(
          "the stored payload is not JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** The route's transform over the payload, or the payload itself when it has none. */
  private static byte[] transform(
      RouteConfig route, Object input, Map<String, Object> bindings, QueuedDelivery d) {
    try {
      if (route.transform() == null) {
        return d.payload().getBytes(StandardCharsets.UTF_8);
      }
      Object out = route.transform().evaluate(input, bindings);
      if (out == null) {
        throw new IllegalArgumentException("the transform produced nothing");
      }
      return JSON.writeValueAsBytes(out);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(
          "the transform's result is not JSON: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * What expressions see besides the payload (docs/guarantees.md): $headers, $source, $eventId, …
   */
  private static Map<String, Object> bindings(QueuedDelivery d) {
    Map<String, Object> bindings = new java.util.HashMap<>();
    bindings.put("headers", d.headers());
    bindings.put("source", d.source());
    bindings.put("eventId", d.eventId().value());
    bindings.put("eventTime", d.eventTime().toString());
    bindings.put("receivedAt", d.receivedAt().toString());
    return bindings;
  }

  private static String newToken() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    return Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong());
  }

  // ---------------------------------------------------------------- back on the loop

  private void noAttempt(DestinationLane lane) {
    lane.running--;
    lane.breaker.noAttempt();
    if (cluster != null && lane.rate != null) {
      // another node claimed it first: no request went out, so the token is not spent
      lane.rate.addTokens(1);
    }
  }

  private void afterSend(DestinationLane lane, DeliveryResult result) {
    if (result == null) {
      noAttempt(lane);
      return;
    }
    lane.running--;
    Instant now = clock.instant();
    CircuitBreaker.State breakerBefore = lane.breaker.state();
    Instant openUntilBefore = lane.breaker.openUntil();
    Instant pausedBefore = lane.pausedUntil;
    switch (result) {
      case DeliveryResult.Delivered ok -> {
        lane.breaker.succeeded();
        lane.holdFor(ok.pauseFor(), now, "quota spent (rate-limit reset)");
      }
      case DeliveryResult.RetryLater retry -> {
        lane.breaker.failed(now);
        lane.holdFor(retry.retryAfter(), now, retry.error());
        lane.lastError = retry.error();
        lane.lastErrorAt = now;
      }
      case DeliveryResult.Rejected no -> {
        lane.breaker.succeeded();
        lane.lastError = no.error();
        lane.lastErrorAt = now;
      }
    }
    if (cluster != null) {
      cluster.afterResult(lane, breakerBefore, openUntilBefore, pausedBefore);
    }
  }

  private void finished(DestinationLane lane, QueuedDelivery d, Finish finish, boolean written) {
    lane.noteFinished(d.id());
    lane.claimWanted = true; // a slot is free, and the next delivery of a key may be claimable
    boolean keepsKey = written && finish instanceof Finish.Retry;
    lane.release(d, false, keepsKey);
    if (!written) {
      lane.sweepWanted = true;
      return;
    }
    String outcome =
        switch (finish) {
          case Finish.Delivered ignored -> "delivered";
          case Finish.Retry ignored -> "retry";
          case Finish.Dead ignored -> "dead";
          case Finish.Skipped ignored -> "skipped";
        };
    metrics.deliveryOutcome(lane.name, outcome);
    if (finish instanceof Finish.Dead dead) {
      DeliveryLog.deadLetter(
          d.eventId().value(),
          d.id().value(),
          d.route(),
          lane.name,
          dead.attempt() == null ? d.attempts() : dead.attempt().number(),
          dead.errorClass());
    }
    if (finish instanceof Finish.Delivered delivered) {
      metrics.endToEnd(lane.name, Duration.between(d.receivedAt(), clock.instant()));
      if (delivered.watermark() != null) {
        remember(new RouteKey(d.route(), d.partitionKey()), d.eventTime());
      }
    }
  }

  // ---------------------------------------------------------------- operator actions

  /** Runs {@code action} on the loop and waits for its answer. */
  <T> T onLoop(java.util.function.Supplier<T> action) {
    CompletableFuture<T> result = new CompletableFuture<>();
    post(
        () -> {
          try {
            result.complete(action.get());
          } catch (RuntimeException e) {
            result.completeExceptionally(e);
          }
        });
    return result.orTimeout(30, TimeUnit.SECONDS).join();
  }

  boolean hasDestination(String name) {
    return lanes.containsKey(name);
  }

  void setPaused(String destination, boolean paused) {
    onLoop(
        () -> {
          DestinationLane lane = lanes.get(destination);
          lane.paused = paused;
          if (!paused) {
            // an operator's resume ends a hold the destination asked for too, and the retries
            // that waited for it are due now
            Instant now = clock.instant();
            Instant heldUntil = lane.pausedUntil;
            lane.pausedUntil = Instant.MIN;
            lane.holdReason = null;
            if (heldUntil.isAfter(now)) {
              if (cluster != null) {
                cluster.holdEnded(lane);
              }
              held.endHold(lane, heldUntil, now);
            }
            lane.sweepWanted = true;
            lane.claimWanted = true;
          } else {
            returnWaiting(lane);
          }
          return null;
        });
  }

  /** After deliveries went back to pending in the store: read them in. */
  void rescan(String destination) {
    onLoop(
        () -> {
          for (DestinationLane lane : lanes.values()) {
            if (destination == null || lane.name.equals(destination)) {
              lane.sweepWanted = true;
              lane.claimWanted = true;
              lane.recheckHeldKeys();
            }
          }
          return null;
        });
  }

  List<DestinationStatus> statuses() {
    return onLoop(
        () -> {
          List<DestinationStatus> result = new ArrayList<>();
          Instant now = clock.instant();
          for (DestinationLane lane : lanes.values()) {
            lane.breaker.allows(now);
            result.add(
                new DestinationStatus(
                    lane.name,
                    lane.config.type(),
                    lane.available(),
                    lane.available() ? null : lane.unavailableReason,
                    lane.paused,
                    lane.pausedUntil.isAfter(now) ? lane.pausedUntil : null,
                    lane.pausedUntil.isAfter(now) ? lane.holdReason : null,
                    lane.breaker.state().name().toLowerCase(java.util.Locale.ROOT),
                    lane.running,
                    lane.waiting(),
                    lane.overflow,
                    lane.lastError,
                    lane.lastErrorAt));
          }
          return result;
        });
  }

  /**
   * Stops starting attempts, lets running ones finish within {@code grace} (their outcomes
   * written), then stops. An attempt still running after the grace is interrupted and abandoned:
   * its delivery stays in flight in the store and is returned to pending on the next start (its
   * lease expires), to be sent again with the same idempotency key.
   */
  public void close(Duration grace) {
    if (stopping) {
      return;
    }
    closeQuietly(workListener);
    post(
        () ->
            lanes
                .values()
                .forEach(
                    lane -> {
                      lane.paused = true;
                      returnWaiting(lane); // claimed and not started: for the other nodes
                    }));
    long deadline = System.nanoTime() + grace.toNanos();
    // an attempt is running until its worker returns, and its outcome is written once its lease
    // is gone: wait for both
    while ((attemptsRunning.get() > 0 || !leases.isEmpty() || claimsOut.get() > 0)
        && System.nanoTime() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    if (attemptsRunning.get() > 0 || !leases.isEmpty()) {
      LOG.warn(
          "{} delivery(ies) still in flight after the shutdown grace: left in the store, resumed"
              + " on the next start",
          Math.max(attemptsRunning.get(), leases.size()));
    } else {
      LOG.info("every attempt in flight finished within the shutdown grace");
    }
    stopping = true;
    loop.interrupt();
    if (cluster != null) {
      cluster.leave();
    }
    try {
      // the loop is the only one that starts workers: once it has stopped, none can be started
      // after the shutdown below
      loop.join(5_000);
      workers.shutdownNow();
      workers.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    retired.forEach(Generation::closeNow);
    for (DestinationLane lane : lanes.values()) {
      if (lane.destination != null) {
        lane.destination.close();
      }
    }
    enrichers.values().forEach(Enricher::close);
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      LOG.debug("close failed: {}", e.toString());
    }
  }
}
