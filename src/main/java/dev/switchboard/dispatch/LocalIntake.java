package dev.switchboard.dispatch;

import dev.switchboard.config.RouteConfig;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.logging.LogThrottle;
import dev.switchboard.route.RoutePlan;
import dev.switchboard.store.DeliveryQueue;
import dev.switchboard.store.QueuedDelivery;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store is this process's alone: new deliveries arrive in memory right after ingest commits
 * them, so a fresh event goes out without a polling delay; polling only finds retries that came
 * due, and a slower sweep re-reads pending work memory does not hold (after a restart, a reaped
 * lease, a replay, or when more is waiting than memory keeps). Each attempt claims its deliveries
 * itself, and need not wait for the claim's commit (see {@link #claim}).
 */
final class LocalIntake implements Intake {
  private static final Logger LOG = LoggerFactory.getLogger(LocalIntake.class);

  private static final long CLAIM_RETRY_FIRST_MS = 100;
  private static final long CLAIM_RETRY_MAX_MS = 5_000;

  /** Where a lane's scan of pending work stands (loop only). */
  private static final class Cursor {
    boolean scanning;
    Instant time;
    long seq = Long.MIN_VALUE;
  }

  private final DeliveryQueue queue;
  private final Clock clock;
  private final int scanBatch;
  private final Executor workers;
  private final Consumer<Runnable> post;
  private final Supplier<Map<String, DestinationLane>> lanes;
  private final Supplier<RouteTable> table;
  private final Leases leases;

  /** {@link System#nanoTime}, which the back-off is measured on (a test moves its own). */
  private final LongSupplier nanoTime;

  private final Map<DestinationLane, Cursor> cursors = new IdentityHashMap<>();

  /** Where each lane's look for scheduled deliveries that came due stands (loop only). */
  private final Map<DestinationLane, Cursor> scheduled = new IdentityHashMap<>();

  /**
   * Until when each lane is looked at for scheduled deliveries: the longest hold of its routes
   * after the last poll that saw one (loop only).
   */
  private final Map<DestinationLane, Instant> scheduleUntil = new IdentityHashMap<>();

  /**
   * The store refused the last claim (a full disk, a locked file). While it does, each attempt
   * waits for its claim's commit before it sends, and attempts start again only after {@link
   * #resumeAt}: a claim that does not commit would otherwise let the request go, and the delivery,
   * still pending in the store, be sent again and again with one idempotency key.
   */
  private volatile boolean refused;

  /** The {@link #nanoTime} before which no attempt starts while claims are refused. */
  private volatile long resumeAt;

  /** Claims refused in a row, for the wait before the next attempt. */
  private final AtomicInteger refusals = new AtomicInteger();

  private final LogThrottle refusedLog = new LogThrottle(Duration.ofSeconds(10));

  LocalIntake(
      DeliveryQueue queue,
      Clock clock,
      int scanBatch,
      Executor workers,
      Consumer<Runnable> post,
      Supplier<Map<String, DestinationLane>> lanes,
      Supplier<RouteTable> table,
      Leases leases,
      LongSupplier nanoTime) {
    this.queue = queue;
    this.clock = clock;
    this.scanBatch = scanBatch;
    this.workers = workers;
    this.post = post;
    this.lanes = lanes;
    this.table = table;
    this.leases = leases;
    this.nanoTime = nanoTime;
  }

  /**
   * The most the deliveries handed over from ingest and not yet taken by the loop may hold, a
   * twelfth of the heap: past it a hand-off only tells their lanes that the store holds work memory
   * does not (docs/adr/0011).
   */
  static final long HANDOFF_BYTES = Runtime.getRuntime().maxMemory() / 12;

  /** What the hand-offs posted to the loop and not yet taken hold (any thread). */
  private final AtomicLong handedOver = new AtomicLong();

  @Override
  public void start() {
    queue.onCommitted(this::handOver);
  }

  /** Ingest committed {@code deliveries} (on the store's writer thread). */
  private void handOver(List<QueuedDelivery> deliveries) {
    long bytes = 0;
    for (QueuedDelivery d : deliveries) {
      bytes += d.heldBytes();
    }
    long held = handedOver.addAndGet(bytes);
    if (held > HANDOFF_BYTES && held != bytes) {
      handedOver.addAndGet(-bytes);
      Set<String> behind = new HashSet<>();
      deliveries.forEach(d -> behind.add(d.destination()));
      post.accept(() -> leftInStore(behind));
      return;
    }
    long taken = bytes;
    post.accept(
        () -> {
          handedOver.addAndGet(-taken);
          offer(deliveries);
        });
  }

  private void leftInStore(Set<String> destinations) {
    for (String name : destinations) {
      DestinationLane lane = lanes.get().get(name);
      if (lane != null) {
        lane.memory().behind();
      }
    }
  }

  private void offer(List<QueuedDelivery> deliveries) {
    RouteTable routes = table.get();
    for (QueuedDelivery d : deliveries) {
      DestinationLane lane = lanes.get().get(d.destination());
      if (lane != null && routes.dispatchable(d)) {
        lane.memory().add(d);
      }
    }
  }

  @Override
  public void poll(Collection<DestinationLane> all) {
    all.forEach(this::scanRetries);
    RouteTable routes = table.get();
    Instant now = clock.instant();
    for (DestinationLane lane : all) {
      Duration hold = routes.longestHold(lane.name());
      if (!hold.isZero()) {
        scheduleUntil.put(lane, now.plus(hold));
      }
      Instant until = scheduleUntil.get(lane);
      if (until != null && !now.isAfter(until)) {
        // also after a reload took the delay away: what it scheduled still comes due
        scanScheduled(lane);
      } else {
        scheduleUntil.remove(lane);
        scheduled.remove(lane);
      }
    }
  }

  @Override
  public void sweep(Collection<DestinationLane> all) {
    for (DestinationLane lane : all) {
      lane.wantWork();
      lane.memory().recheckHeldKeys();
    }
  }

  @Override
  public long fill(DestinationLane lane, Instant now, DestinationLane.ProbeGate probes) {
    LaneMemory memory = lane.memory();
    if (lane.workWanted() || memory.wantsRefill(lane.waiting())) {
      scanPending(lane);
    }
    return Long.MAX_VALUE;
  }

  private void scanRetries(DestinationLane lane) {
    LaneMemory memory = lane.memory();
    int room = memory.rowsThatFit(scanBatch);
    if (room <= 0) {
      return;
    }
    Instant now = clock.instant();
    memory.scanStarted();
    workers.execute(
        () -> {
          try {
            List<QueuedDelivery> due =
                queue.scan(
                    lane.name(), DeliveryState.RETRY_SCHEDULED, now, null, Long.MIN_VALUE, room);
            post.accept(
                () -> {
                  RouteTable routes = table.get();
                  due.stream()
                      .filter(d -> routes.dispatchable(d) && !memory.finishedDuringScan(d.id()))
                      .forEach(memory::add);
                  memory.scanEnded();
                });
          } catch (RuntimeException e) {
            LOG.warn("could not scan retries of {}: {}", lane.name(), e.getMessage());
            post.accept(memory::scanEnded);
          }
        });
  }

  /**
   * Reads the pending deliveries that came due since the last look: those a route's {@code delay}
   * or {@code reorder_window} created for later, which ingest does not hand over. Ordered by due
   * time, from where the last look ended, so each is read about once; deliveries created due (read
   * here too when they fall in the range) are already in memory and not added twice.
   */
  private void scanScheduled(DestinationLane lane) {
    Cursor cursor = scheduled.computeIfAbsent(lane, l -> new Cursor());
    LaneMemory memory = lane.memory();
    int limit = memory.rowsThatFit(scanBatch);
    if (cursor.scanning || limit <= 0) {
      return;
    }
    cursor.scanning = true;
    memory.scanStarted();
    Instant after = cursor.time;
    long afterSeq = cursor.seq;
    Instant now = clock.instant();
    workers.execute(
        () -> {
          List<QueuedDelivery> rows;
          try {
            rows = queue.scan(lane.name(), DeliveryState.PENDING, now, after, afterSeq, limit);
          } catch (RuntimeException e) {
            LOG.warn("could not scan scheduled deliveries of {}: {}", lane.name(), e.getMessage());
            rows = null;
          }
          List<QueuedDelivery> read = rows;
          post.accept(
              () -> {
                cursor.scanning = false;
                if (read != null) {
                  RouteTable routes = table.get();
                  for (QueuedDelivery d : read) {
                    if (memory.finishedDuringScan(d.id())) {
                      continue;
                    }
                    if (routes.dispatchable(d) && !memory.add(d)) {
                      break; // memory is full: the pending scan reads the rest later
                    }
                    cursor.time = d.nextAttemptAt();
                    cursor.seq = d.seq();
                  }
                }
                memory.scanEnded();
              });
        });
  }

  /**
   * Reads pending work memory does not hold, from the lane's cursor (from the start when the lane
   * wants work: a sweep, a reload, a resume).
   */
  private void scanPending(DestinationLane lane) {
    Cursor cursor = cursors.computeIfAbsent(lane, l -> new Cursor());
    if (cursor.scanning) {
      return;
    }
    LaneMemory memory = lane.memory();
    cursor.scanning = true;
    memory.scanStarted();
    if (lane.workWanted()) {
      lane.workTaken();
      cursor.time = null;
      cursor.seq = Long.MIN_VALUE;
    }
    Instant after = cursor.time;
    long afterSeq = cursor.seq;
    Instant now = clock.instant();
    // as many rows as memory has room for, by count and by bytes: a backlog of large bodies is
    // read a few at a time, never more than the heap holds (docs/adr/0011)
    int limit = Math.max(1, memory.rowsThatFit(scanBatch));
    long marks = memory.behindMarks();
    workers.execute(
        () -> {
          List<QueuedDelivery> rows;
          try {
            rows = queue.scan(lane.name(), DeliveryState.PENDING, now, after, afterSeq, limit);
          } catch (RuntimeException e) {
            LOG.warn("could not scan pending deliveries of {}: {}", lane.name(), e.getMessage());
            post.accept(
                () -> {
                  cursor.scanning = false;
                  memory.scanEnded();
                });
            return;
          }
          post.accept(() -> takeScan(lane, cursor, rows, limit, marks));
        });
  }

  private void takeScan(
      DestinationLane lane, Cursor cursor, List<QueuedDelivery> rows, int limit, long marks) {
    LaneMemory memory = lane.memory();
    RouteTable routes = table.get();
    cursor.scanning = false;
    boolean full = false;
    for (QueuedDelivery d : rows) {
      if (memory.finishedDuringScan(d.id())) {
        continue;
      }
      if (routes.dispatchable(d) && !memory.add(d)) {
        full = true;
        break;
      }
      cursor.time = d.nextAttemptAt();
      cursor.seq = d.seq();
    }
    memory.scanEnded();
    if (!full && rows.size() < limit) {
      // read to the end: memory holds everything that was waiting
      memory.caughtUp(marks);
      cursor.time = null;
      cursor.seq = Long.MIN_VALUE;
    } else {
      memory.behind();
    }
  }

  @Override
  public long holdBack() {
    if (!refused) {
      return 0;
    }
    return Math.max(0, resumeAt - nanoTime.getAsLong());
  }

  /**
   * Claims each delivery of the batch, after the store's check that no earlier delivery of its key
   * is unfinished (memory may not know of one).
   *
   * <p>Here the store is this process's alone, and memory knows the claim will hold (nothing else
   * claims, and scans never hand back what memory is running or just finished), so the request need
   * not wait for the claim's commit: the outcome, written after it in the same queue, is fenced by
   * the token all the same, and a crash before the claim commits leaves the delivery pending, to be
   * sent again with the same idempotency key. While the store refuses claims (a full disk) each
   * attempt waits for its claim instead, so that nothing is sent that the store could not record,
   * and waits for as long as the store takes to answer: a claim given up on could still commit
   * later, under a token nothing renews or finishes (the writer answers every claim, and fails
   * those left when it closes).
   */
  @Override
  public List<Claimed> claim(
      DestinationLane lane, List<QueuedDelivery> batch, List<QueuedDelivery> open)
      throws InterruptedException {
    List<Claimed> claimed = new ArrayList<>(batch.size());
    for (QueuedDelivery d : batch) {
      RoutePlan plan = table.get().plan(d.route());
      RouteConfig route = plan == null ? null : plan.route();
      if (lane.memory().keyOf(d) != null) {
        boolean block = route != null && route.onDead() == RouteConfig.OnDead.BLOCK;
        Optional<QueuedDelivery> earlier = queue.earlierUnfinished(d, block);
        if (earlier.isPresent()) {
          QueuedDelivery e = earlier.get();
          // a pending delivery may be scheduled for later (a route's delay or reorder window)
          boolean due =
              (e.state() == DeliveryState.PENDING || e.state() == DeliveryState.RETRY_SCHEDULED)
                  && !e.nextAttemptAt().isAfter(clock.instant());
          open.remove(d);
          post.accept(() -> lane.memory().blockedBy(d, e, due));
          continue;
        }
      }
      Instant claimedAt = clock.instant();
      String token = Tokens.next();
      CompletableFuture<Boolean> claim =
          queue.claim(d.id(), token, claimedAt, claimedAt.plus(leases.termFor(lane.config())));
      CompletableFuture<Boolean> unconfirmed = null;
      if (refused) {
        boolean held;
        try {
          held = claim.get();
        } catch (ExecutionException e) {
          refused(lane, e);
          held = false;
        }
        if (!held) {
          open.remove(d);
          post.accept(() -> lane.giveBack(d));
          continue;
        }
        taken();
      } else {
        unconfirmed = claim;
        claim.whenComplete(
            (held, error) -> {
              if (error != null) {
                refused(lane, error);
              } else {
                taken();
              }
            });
      }
      leases.hold(d.id(), token);
      claimed.add(new Claimed(d, plan, token, claimedAt, unconfirmed));
    }
    return claimed;
  }

  /** The store refused a claim: attempts hold back, and wait for their claims. */
  private void refused(DestinationLane lane, Throwable error) {
    int inARow = refusals.getAndIncrement();
    long waitMillis = Math.min(CLAIM_RETRY_MAX_MS, CLAIM_RETRY_FIRST_MS << Math.min(inARow, 10));
    resumeAt = nanoTime.getAsLong() + waitMillis * 1_000_000L;
    refused = true;
    LOG.debug("claim refused ({} in a row); attempts start again in {} ms", inARow + 1, waitMillis);
    refusedLog.log(
        skipped ->
            LOG.warn(
                "the store refused to claim a delivery of {}; deliveries wait for it, nothing is"
                    + " sent until a claim commits: {}{}",
                lane.name(),
                Tokens.rootMessage(error),
                LogThrottle.more(skipped)));
  }

  /** A claim committed; attempts go without waiting for their claims again. */
  private void taken() {
    if (refused) {
      refused = false;
      refusals.set(0);
      LOG.info("the store takes claims again; deliveries resume");
    }
  }

  @Override
  public void returnWaiting(DestinationLane lane) {
    // memory is a cache of this process's own store: what waits stays pending there
  }

  @Override
  public void finished(DestinationLane lane) {
    // the next delivery of a key is in memory already, or read in by the next scan
  }

  @Override
  public int claimsOut() {
    return 0;
  }

  @Override
  public void close() {}
}
