package dev.switchboard.dispatch;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.RouteConfig;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.Enricher;
import dev.switchboard.observability.GatewayMetrics;
import dev.switchboard.observability.Tracing;
import dev.switchboard.route.RoutePlan;
import dev.switchboard.store.ClusterState;
import dev.switchboard.store.DeliveryQueue;
import dev.switchboard.store.QueuedDelivery;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends every pending delivery to its destination. One loop thread asks each destination's {@link
 * DestinationLane} what may start (pause, server hold, breaker, rate, concurrency, per-key order)
 * and its {@link Intake} for work; each attempt runs on its own virtual thread ({@link Attempt}),
 * and its outcome is written back fenced by the claim token ({@link Outcomes}). No transaction is
 * open while a request is out. Everything that changes a lane runs on the loop: workers report back
 * through its mailbox.
 *
 * <p>Failure policy: waiting for a paused destination, a {@code Retry-After}, an open breaker, a
 * rate limit or a free slot happens before the claim, so it never spends an attempt. If the store
 * fails a claim or an outcome, the delivery is forgotten in memory and stays in the store (pending,
 * or in_flight until its lease expires and the reaper returns it): it is tried again later, with
 * the same idempotency key.
 */
public final class Dispatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

  // replaced whole by a reload (on the loop); read anywhere
  private volatile RouteTable table;
  private final Lanes lanes;
  private volatile Generation generation = new Generation();
  private final List<Generation> retired = new CopyOnWriteArrayList<>();
  private final DeliveryQueue queue;
  private final Clock clock;
  private final DispatcherSettings settings;
  private final LinkedBlockingQueue<Runnable> mailbox = new LinkedBlockingQueue<>();
  private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
  private final Leases leases;
  private final Watermarks watermarks;
  private final Intake intake;
  private final Outcomes outcomes;
  private final Requests requests;
  private final Thread loop;

  /** Cluster mode (ADR 0008): lanes are filled by claims from the shared store. */
  private final boolean sharedStore;

  /** What a server hold does to the stored deliveries: their expiry, and the end of the hold. */
  private final HeldDeliveries held;

  private volatile boolean stopping;

  private volatile Tracing tracing = Tracing.off();

  /** Limits shared with the other nodes of a cluster, or null on a store of its own. */
  private ClusterLimits cluster;

  /** Attempts handed to a worker and not yet returned (a lease may not be taken yet). */
  private final AtomicInteger attemptsRunning = new AtomicInteger();

  /**
   * @param destinations the built connectors by name; a configured destination missing here is held
   *     (its deliveries wait) with {@code unavailable} giving the reason
   * @param enrichers the built enrichers by name, for routes with an {@code enrich} step
   */
  /**
   * From now on, dead letters, breaker moves, holds and refused credentials are told to {@code ops}
   * (docs/operational-events.md).
   */
  public void reportTo(dev.switchboard.alerts.OperationalEvents ops) {
    outcomes.ops = ops;
    requests.ops = ops;
    held.ops = ops;
  }

  public Dispatcher(
      Map<String, RouteConfig> routes,
      Map<String, DestinationConfig> destinationConfigs,
      Map<String, Destination> destinations,
      Map<String, String> unavailable,
      Map<String, Enricher> enrichers,
      DeliveryQueue queue,
      Clock clock,
      RandomGenerator random,
      DispatcherSettings settings,
      GatewayMetrics metrics) {
    this.table = new RouteTable(routes, enrichers);
    this.queue = queue;
    this.clock = clock;
    this.settings = settings;
    this.sharedStore = !queue.singleNode();
    this.leases = new Leases(settings.reapInterval());
    this.watermarks = new Watermarks(queue);
    this.lanes =
        new Lanes(
            clock,
            random,
            settings.laneCapacity(),
            new LaneBytes(settings.laneBytes()),
            sharedStore,
            this::clusterNodes);
    Supplier<Map<String, DestinationLane>> lanesNow = lanes::byName;
    this.intake =
        sharedStore
            ? new StoreClaims(
                queue,
                clock,
                settings.scanBatch(),
                this::post,
                lanesNow,
                () -> table,
                leases,
                () -> stopping)
            : new LocalIntake(
                queue,
                clock,
                settings.scanBatch(),
                workers,
                this::post,
                lanesNow,
                () -> table,
                leases,
                System::nanoTime);
    this.outcomes =
        new Outcomes(
            queue,
            clock,
            leases,
            settings.reapInterval(),
            this::post,
            () -> stopping,
            metrics,
            watermarks,
            () -> intake,
            System::nanoTime,
            Outcomes.Later.DELAYED);
    this.requests = new Requests(intake, leases, outcomes, this::post, clock, () -> cluster);
    this.held = new HeldDeliveries(queue, metrics, sharedStore, this::post);
    lanes.match(
        destinationConfigs, destinations, unavailable, table, Set.of(), lane -> {}, List.of());
    this.loop = Thread.ofPlatform().name("dispatcher").daemon(true).unstarted(this::run);
  }

  /**
   * Shares rate limits, breakers and pauses with the other nodes on the same database
   * (docs/adr/0009-cluster-limits.md). Call before {@link #start}.
   */
  public void shareLimits(ClusterState state) {
    this.cluster =
        new ClusterLimits(
            state, clock, workers, this::post, lanes::byName, settings.pollInterval());
  }

  /**
   * Each attempt a span in its event's trace (docs/telemetry.md), and the W3C traceparent on its
   * request. Call before {@link #start}.
   */
  public void traceWith(Tracing tracing) {
    this.tracing = tracing;
  }

  /** The live nodes the rate limits are divided by now (1 without a cluster). */
  public int clusterNodes() {
    return cluster == null ? 1 : cluster.rateNodes();
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
    RouteTable next = new RouteTable(routes, enrichers);
    onLoop(
        () -> {
          List<Runnable> replaced = new ArrayList<>();
          lanes.match(
              destinationConfigs,
              destinations,
              unavailable,
              next,
              paused,
              intake::returnWaiting,
              replaced);
          table
              .enrichers()
              .forEach(
                  (name, enricher) -> {
                    if (enrichers.get(name) != enricher) {
                      replaced.add(enricher::close);
                    }
                  });
          this.table = next;
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
        lane.pause();
      }
    }
    lanes.all().stream()
        .filter(l -> !l.available())
        .forEach(
            l ->
                LOG.warn(
                    "destination {} is held: {}; its deliveries wait",
                    l.name(),
                    l.unavailableReason()));
    intake.start();
    loop.start();
  }

  private void post(Runnable task) {
    mailbox.add(task);
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
        intake.poll(lanes.all());
      }
      if (cluster != null) {
        cluster.tick(nowNanos, lanes::rescaleRates);
      }
      if (nowNanos - nextSweep >= 0) {
        nextSweep = nowNanos + settings.sweepInterval().toNanos();
        intake.sweep(lanes.all());
      }
      if (nowNanos - nextReap >= 0) {
        nextReap = nowNanos + settings.reapInterval().toNanos();
        workers.execute(() -> outcomes.reapAndRenew(lanes::all));
      }
      if (nowNanos - nextExpiry >= 0) {
        nextExpiry = nowNanos + settings.sweepInterval().toNanos();
        held.expire(lanes.all(), clock.instant());
      }
      Instant now = clock.instant();
      waitNanos = Math.max(0, nextPoll - System.nanoTime());
      DestinationLane.ProbeGate probes =
          cluster == null ? DestinationLane.ProbeGate.ALONE : cluster;
      for (DestinationLane lane : lanes.all()) {
        waitNanos = Math.min(waitNanos, pump(lane, now, probes));
        waitNanos = Math.min(waitNanos, intake.fill(lane, now, probes));
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
   * limit, the store refusing claims) may go, or Long.MAX_VALUE.
   */
  private long pump(DestinationLane lane, Instant now, DestinationLane.ProbeGate probes) {
    if (!lane.open(now)) {
      return Long.MAX_VALUE;
    }
    long holdBack = intake.holdBack();
    if (holdBack > 0 && lane.waiting() > 0) {
      return holdBack; // the store refuses claims: try again after the back-off, not before
    }
    while (lane.hasWorkToStart()) {
      long wait = lane.untilAdmitted(now, probes);
      if (wait > 0) {
        return wait;
      }
      Destination connector = lane.connector();
      List<QueuedDelivery> batch = lane.startRequest();
      if (batch.isEmpty()) {
        return Long.MAX_VALUE;
      }
      Generation started = generation;
      started.enter();
      attemptsRunning.incrementAndGet();
      Attempt attempt =
          new Attempt(clock, () -> table, watermarks, sharedStore, lane, connector, tracing);
      workers.execute(
          () -> {
            try {
              requests.run(lane, attempt, batch);
            } finally {
              attemptsRunning.decrementAndGet();
              started.leave();
            }
          });
    }
    return Long.MAX_VALUE;
  }

  // ---------------------------------------------------------------- operator actions

  /** Runs {@code action} on the loop and waits for its answer. */
  <T> T onLoop(Supplier<T> action) {
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
    return lanes.get(name) != null;
  }

  void setPaused(String destination, boolean paused) {
    onLoop(
        () -> {
          DestinationLane lane = lanes.get(destination);
          if (paused) {
            lane.pause();
            intake.returnWaiting(lane);
            return null;
          }
          // an operator's resume ends a hold the destination asked for too, and the retries that
          // waited for it are due now
          Instant now = clock.instant();
          Instant heldUntil = lane.resume(now);
          if (heldUntil != null) {
            if (cluster != null) {
              cluster.holdEnded(lane);
            }
            held.endHold(lane, heldUntil, now);
          }
          return null;
        });
  }

  /** After deliveries went back to pending in the store: read them in. */
  void rescan(String destination) {
    onLoop(
        () -> {
          for (DestinationLane lane : lanes.all()) {
            if (destination == null || lane.name().equals(destination)) {
              lane.wantWork();
              lane.memory().recheckHeldKeys();
            }
          }
          return null;
        });
  }

  List<DestinationStatus> statuses() {
    return onLoop(
        () -> {
          Instant now = clock.instant();
          return lanes.all().stream().map(lane -> lane.status(now)).toList();
        });
  }

  /** The route's plan in the running configuration, or null when it has none of that name. */
  RoutePlan plan(String name) {
    return table.plan(name);
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
    intake.close();
    post(
        () ->
            lanes
                .all()
                .forEach(
                    lane -> {
                      lane.pause();
                      intake.returnWaiting(lane); // claimed and not started: for the other nodes
                    }));
    long deadline = System.nanoTime() + grace.toNanos();
    // an attempt is running until its worker returns, and its outcome is written once its lease
    // is gone: wait for both
    while ((attemptsRunning.get() > 0 || !leases.isEmpty() || intake.claimsOut() > 0)
        && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
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
    for (DestinationLane lane : lanes.all()) {
      if (lane.connector() != null) {
        lane.connector().close();
      }
    }
    table.enrichers().values().forEach(Enricher::close);
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }
}
