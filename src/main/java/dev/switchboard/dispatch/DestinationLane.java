package dev.switchboard.dispatch;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.Destination;
import dev.switchboard.store.QueuedDelivery;
import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One destination's admission: whether a request to it may start now, and what an answer means for
 * it. It owns the operator's pause, the hold a server asked for, the circuit breaker, the rate
 * bucket, the concurrency count and the deliveries held in memory (their per-key order is the
 * {@link LaneMemory}'s). Every change goes through a method here; only the dispatcher's loop thread
 * calls them. A cluster shares the breaker and the hold through the same methods ({@link
 * ClusterLimits}).
 */
final class DestinationLane {
  /** Whether a half-open breaker's probe may go from this node now (a cluster asks the others). */
  interface ProbeGate {
    ProbeGate ALONE = (lane, now) -> true;

    boolean mayProbe(DestinationLane lane, Instant now);
  }

  /** The breaker and the hold before an answer was applied, for the cluster to tell the others. */
  record Before(CircuitBreaker.State breaker, Instant breakerOpenUntil, Instant heldUntil) {}

  private final String name;
  private final LaneMemory memory;

  // What a reload may replace (on the loop, see rewire); attempts on other threads read config and
  // retryPolicy, so those are volatile, and keep the connector they started with.
  private volatile DestinationConfig config;
  private volatile boolean readsBindings;
  private volatile RetryPolicy retryPolicy;

  /** The connector, or null when its type is not available or it was removed from the file. */
  private volatile Destination connector;

  private String unavailableReason;
  private CircuitBreaker breaker;

  /** Replaced with the breaker, so that an answer about an older one can be told apart. */
  private int breakerGeneration;

  private Bucket rate;
  private boolean paused;

  /** Until when the destination asked to be left alone (a server hold), cut to the cap. */
  private Instant heldUntil = Instant.MIN;

  /** Why it is held until {@link #heldUntil}, for operators; null when it is not. */
  private String holdReason;

  /** When the current hold began (a hold that follows an ended one begins anew). */
  private Instant heldSince = Instant.MIN;

  private int running;
  private String lastError;
  private Instant lastErrorAt;

  /** The store may hold work for this lane that memory does not (read it, or claim it). */
  private boolean workWanted = true;

  DestinationLane(
      DestinationConfig config,
      Destination connector,
      String unavailableReason,
      Bucket rate,
      RetryPolicy retryPolicy,
      LaneMemory memory) {
    this.name = config.name();
    this.memory = memory;
    rewire(config, connector, unavailableReason, rate, retryPolicy);
  }

  // ---------------------------------------------------------------- configuration

  /**
   * A reload changed the destination: new settings, connector, rate limit and a fresh breaker.
   * Attempts already running keep the connector they started with.
   */
  void rewire(
      DestinationConfig config,
      Destination connector,
      String unavailableReason,
      Bucket rate,
      RetryPolicy retryPolicy) {
    this.config = config;
    this.readsBindings =
        config != null
            && config.settings() != null
            && !config.settings().templateVariables().isEmpty();
    this.connector = connector;
    this.unavailableReason = unavailableReason;
    this.breaker = new CircuitBreaker(config.breaker());
    this.breakerGeneration++;
    this.rate = rate;
    this.retryPolicy = retryPolicy;
  }

  /** The destination left the configuration: its deliveries wait in the store, for {@code why}. */
  void withdraw(String why) {
    rewire(config, null, why, null, retryPolicy);
  }

  /** Why the connector is missing, should it be (kept for when it goes missing). */
  void explainUnavailable(String why) {
    this.unavailableReason = why;
  }

  /** The live-node count changed: a limited lane takes {@code share} as its bucket. */
  void rescaleRate(Bucket share) {
    if (rate != null) {
      rate = share;
    }
  }

  String name() {
    return name;
  }

  DestinationConfig config() {
    return config;
  }

  /**
   * Whether the destination's templates read a delivery's bindings ({@code $eventId}, an
   * enrichment's result): worked out once per configuration, not per request.
   */
  boolean readsBindings() {
    return readsBindings;
  }

  RetryPolicy retryPolicy() {
    return retryPolicy;
  }

  Destination connector() {
    return connector;
  }

  boolean available() {
    return connector != null;
  }

  String unavailableReason() {
    return unavailableReason;
  }

  LaneMemory memory() {
    return memory;
  }

  // ---------------------------------------------------------------- admission

  /** Whether anything may be sent now at all: connected, not paused, not held by the server. */
  boolean open(Instant now) {
    return available() && !paused && !now.isBefore(heldUntil);
  }

  /** Whether a free slot and a waiting delivery are both there. */
  boolean hasWorkToStart() {
    return running < config.concurrency() && waiting() > 0;
  }

  /**
   * Whether a request may go now as far as the breaker and the rate allow: 0 when it may, else how
   * long until the rate lets it (at least 1 ms), or Long.MAX_VALUE when the breaker must change
   * first (open, or another node probes).
   */
  long untilAdmitted(Instant now, ProbeGate probes) {
    if (!breaker.allows(now)) {
      return Long.MAX_VALUE;
    }
    if (breaker.state() == CircuitBreaker.State.HALF_OPEN && !probes.mayProbe(this, now)) {
      return Long.MAX_VALUE;
    }
    if (rate != null && rate.getAvailableTokens() < 1) {
      return Math.max(1_000_000L, rate.estimateAbilityToConsume(1).getNanosToWaitForRefill());
    }
    return 0;
  }

  /** Whether the next request is the half-open breaker's probe (one delivery only). */
  boolean probing() {
    return breaker.state() == CircuitBreaker.State.HALF_OPEN;
  }

  /**
   * How many deliveries this lane could take in from the store now: free slots times the batch size
   * (plus one round more without a rate limit, so the next slots to free start at once; under a
   * rate limit the claimed would only wait), less what already waits; one for a probe.
   */
  int room(int most) {
    int batch = Math.max(1, connector.batchSize());
    int rounds = rate == null ? 2 : 1;
    int want = (rounds * config.concurrency() - running) * batch - waiting();
    if (want <= 0) {
      return 0;
    }
    return probing() ? Math.min(want, 1) : Math.min(want, most);
  }

  /**
   * Starts one request: takes up to the connector's batch size of deliveries, never two of one key,
   * and counts the request against the rate and a concurrency slot (the breaker admits it). Empty
   * when nothing may start.
   */
  List<QueuedDelivery> startRequest() {
    int most = Math.max(1, connector.batchSize());
    List<QueuedDelivery> batch = new ArrayList<>(Math.min(most, 16));
    for (QueuedDelivery d; batch.size() < most && (d = memory.take()) != null; ) {
      batch.add(d);
    }
    if (batch.isEmpty()) {
      return batch;
    }
    if (rate != null) {
      rate.tryConsume(1);
    }
    running++;
    breaker.admitted();
    return batch;
  }

  /**
   * A started request made no call: its slot is free, the breaker forgets it, and a shared rate
   * ({@code refund}) gets its token back (another node claimed the work first).
   */
  void noAttempt(boolean refund) {
    running--;
    breaker.noAttempt();
    if (refund && rate != null) {
      rate.addTokens(1);
    }
  }

  /**
   * What a request's answer means for the destination: the breaker counts it, a wait the server
   * asked for holds the whole destination, and a failure is what operators see last. Returns the
   * state before, for a cluster to share what changed.
   */
  Before answered(DeliveryResult result, Instant now) {
    Before before = new Before(breaker.state(), breaker.openUntil(), heldUntil);
    running--;
    switch (result) {
      case DeliveryResult.Delivered ok -> {
        breaker.succeeded();
        holdFor(ok.pauseFor(), now, "quota spent (rate-limit reset)");
      }
      case DeliveryResult.RetryLater retry -> {
        breaker.failed(now);
        holdFor(retry.retryAfter(), now, retry.error());
        lastError = retry.error();
        lastErrorAt = now;
      }
      case DeliveryResult.Rejected no -> {
        breaker.succeeded();
        lastError = no.error();
        lastErrorAt = now;
      }
    }
    return before;
  }

  /** Requests running now. */
  int running() {
    return running;
  }

  /** Deliveries waiting in memory (not running). */
  int waiting() {
    return memory.size() - running;
  }

  // ---------------------------------------------------------------- pause and hold

  boolean paused() {
    return paused;
  }

  /** An operator paused it (or shutdown stops it): nothing starts until {@link #resume}. */
  void pause() {
    paused = true;
  }

  /**
   * An operator's resume, which ends a hold the destination asked for too. Returns until when the
   * ended hold would have lasted, or null when none was running.
   */
  Instant resume(Instant now) {
    paused = false;
    Instant until = heldUntil;
    heldUntil = Instant.MIN;
    holdReason = null;
    wantWork();
    return until.isAfter(now) ? until : null;
  }

  Instant heldUntil() {
    return heldUntil;
  }

  /** The last failure's error, as operators see it; null before any. */
  String lastError() {
    return lastError;
  }

  boolean held(Instant now) {
    return heldUntil.isAfter(now);
  }

  String holdReason() {
    return holdReason;
  }

  Instant heldSince() {
    return heldSince;
  }

  /** Holds the destination until {@code until} (a later end only lengthens it), for {@code why}. */
  void hold(Instant until, String why, Instant now) {
    if (!heldUntil.isAfter(now)) {
      heldSince = now;
    }
    heldUntil = until;
    holdReason = why;
  }

  /** The hold ended elsewhere (an operator resumed the destination on another node). */
  void endHold() {
    heldUntil = Instant.MIN;
    holdReason = null;
    wantWork();
  }

  /**
   * A destination's own "wait" applies to the whole destination, not only one delivery; it is cut
   * to the destination's {@code retry.max_server_delay}, so that a {@code Retry-After} of years (or
   * a timestamp read in the wrong unit) holds it for that long at most. A shorter wait than the
   * hold already running changes nothing.
   */
  void holdFor(Duration wait, Instant now, String why) {
    Duration held = capServerWait(wait);
    if (held != null && held.isPositive()) {
      Instant until = now.plus(held);
      if (until.isAfter(heldUntil)) {
        // e.g. "http 503 asked for 99999999s, cut to 15m" (the cap: retry.max_server_delay)
        hold(
            until,
            why
                + " asked for "
                + RetryPolicy.compact(wait)
                + (held.equals(wait) ? "" : ", cut to " + RetryPolicy.compact(held)),
            now);
      }
    }
  }

  /** A wait the destination asked for, no longer than its {@code retry.max_server_delay}. */
  Duration capServerWait(Duration asked) {
    Duration cap = config.retry().maxServerDelay();
    return asked != null && asked.compareTo(cap) > 0 ? cap : asked;
  }

  // ---------------------------------------------------------------- breaker, shared

  CircuitBreaker.State breakerState() {
    return breaker.state();
  }

  Instant breakerOpenUntil() {
    return breaker.openUntil();
  }

  int breakerGeneration() {
    return breakerGeneration;
  }

  /** Opens the breaker until {@code until}, as another node's did. */
  void openBreakerUntil(Instant until) {
    breaker.openUntil(until);
  }

  /** Another node's probe succeeded: the breaker closes, and work may be waiting. */
  void closeBreaker() {
    breaker.succeeded();
    wantWork();
  }

  // ---------------------------------------------------------------- memory

  /** The store may hold work memory does not: the intake reads or claims it on its next turn. */
  void wantWork() {
    workWanted = true;
  }

  boolean workWanted() {
    return workWanted;
  }

  /** The intake is reading or claiming what was wanted. */
  void workTaken() {
    workWanted = false;
  }

  /**
   * Drops the deliveries waiting in memory (they stay in the store and are read in again) and takes
   * the routes with per-key order from now on.
   */
  void forgetWaiting(Set<String> perKeyRoutes) {
    memory.forgetWaiting(perKeyRoutes);
    wantWork();
  }

  /** A delivery handed back to the store unsent, or finished: memory lets go of it. */
  void release(QueuedDelivery d, boolean keepsKey) {
    memory.release(d, keepsKey);
  }

  /** A delivery given up on unsent: memory lets go of it and reads the store again later. */
  void giveBack(QueuedDelivery d) {
    memory.release(d, false);
    wantWork();
  }

  // ---------------------------------------------------------------- for operators

  DestinationStatus status(Instant now) {
    breaker.allows(now);
    boolean held = held(now);
    return new DestinationStatus(
        name,
        config.type(),
        available(),
        available() ? null : unavailableReason,
        paused,
        held ? heldUntil : null,
        held ? holdReason : null,
        breaker.state().name().toLowerCase(Locale.ROOT),
        running,
        waiting(),
        memory.overflow(),
        lastError,
        lastErrorAt);
  }
}
