package dev.switchboard.testing;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryFilter;
import dev.switchboard.store.DeliveryQueue;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.store.Finish;
import dev.switchboard.store.PagePosition;
import dev.switchboard.store.QueuedDelivery;
import dev.switchboard.store.StoreUnavailableException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The dispatcher's side of the store in memory, for unit tests of the delivery core. It keeps the
 * rows the test {@link #add adds} and moves them as the store would (a claim takes a due row under
 * a token, an outcome is fenced by it), records every call in order ({@link #calls}), and lets the
 * test script each asynchronous write: answered as the store would, refused, or held open until the
 * test completes it ({@link Writes}), so the order of events is the test's. The operator's methods
 * (replay, discard, counts…) throw {@link UnsupportedOperationException}. Thread-safe.
 */
public final class FakeDeliveryQueue implements DeliveryQueue {
  /** The row's state and its claim token (null when unclaimed). */
  private record Row(QueuedDelivery d, String token) {}

  private final Map<DeliveryId, Row> rows = new LinkedHashMap<>();
  private final Map<List<String>, Instant> watermarks = new HashMap<>();
  private final List<String> calls = Collections.synchronizedList(new ArrayList<>());
  private final List<Scan> scans = Collections.synchronizedList(new ArrayList<>());
  private final boolean singleNode;
  private volatile Consumer<List<QueuedDelivery>> committed = list -> {};
  private volatile Consumer<String> wake = destination -> {};
  private volatile RuntimeException scanFailure;

  /** Claims of one delivery (single node). */
  public final Writes<Claim, Boolean> claims = new Writes<>(this::claimNow);

  /** Outcomes. */
  public final Writes<Finished, Boolean> finishes = new Writes<>(this::finishNow);

  /** Claims of due deliveries of a destination (cluster). */
  public final Writes<ClaimDue, List<QueuedDelivery>> claimsDue = new Writes<>(this::claimDueNow);

  /** Claimed deliveries handed back untried (cluster). */
  public final Writes<Unclaim, Integer> unclaims = new Writes<>(this::unclaimNow);

  /** Lease renewals. */
  public final Writes<Renew, Integer> renewals = new Writes<>(this::renewNow);

  /**
   * @param singleNode a store one process owns (SQLite), or a shared one (cluster mode)
   */
  public FakeDeliveryQueue(boolean singleNode) {
    this.singleNode = singleNode;
  }

  // ---------------------------------------------------------------- what the test does

  /** Stores deliveries, as ingest (or an earlier attempt) left them. */
  public synchronized FakeDeliveryQueue add(QueuedDelivery... deliveries) {
    for (QueuedDelivery d : deliveries) {
      rows.put(d.id(), new Row(d, null));
    }
    return this;
  }

  /** Hands {@code deliveries} to the dispatcher as ingest's commit does. */
  public void commit(List<QueuedDelivery> deliveries) {
    committed.accept(deliveries);
  }

  /** Wakes {@code destination} (every one when null) as another node's work does. */
  public void wake(String destination) {
    wake.accept(destination);
  }

  /** Every scan from now on fails with {@code failure}; null to answer again. */
  public void failScans(RuntimeException failure) {
    this.scanFailure = failure;
  }

  public synchronized void watermark(String route, String key, Instant eventTime) {
    watermarks.put(List.of(route, key), eventTime);
  }

  /** The stored state of {@code id}. */
  public synchronized DeliveryState state(DeliveryId id) {
    return rows.get(id).d().state();
  }

  /** The token that holds {@code id}, or null. */
  public synchronized String token(DeliveryId id) {
    return rows.get(id).token();
  }

  /** Every call, in order, by method name ({@code claim}, {@code finish}, {@code scan}, …). */
  public List<String> calls() {
    synchronized (calls) {
      return List.copyOf(calls);
    }
  }

  public List<Scan> scans() {
    synchronized (scans) {
      return List.copyOf(scans);
    }
  }

  // ---------------------------------------------------------------- the calls, as records

  public record Claim(DeliveryId id, String token, Instant now, Instant leaseUntil) {}

  public record Finished(Finish finish, Instant now) {}

  public record ClaimDue(
      String destination,
      Set<String> perKeyRoutes,
      Set<String> blockingRoutes,
      Set<String> heldRoutes,
      int limit,
      String token,
      Instant now,
      Instant leaseUntil) {}

  public record Unclaim(Map<DeliveryId, String> leases, Instant now) {}

  public record Renew(Map<DeliveryId, String> leases, Instant leaseUntil) {}

  public record Scan(
      String destination,
      DeliveryState state,
      Instant now,
      Instant afterTime,
      long afterSeq,
      int limit) {}

  /**
   * One kind of asynchronous write: its calls, and how the next ones are answered. Each call takes
   * the next scripted step ({@link #thenRefuse}, {@link #thenHold}, {@link #thenAnswer}), then the
   * standing one ({@link #always}), which is at first to answer as the store would.
   */
  public static final class Writes<A, T> {
    private enum Step {
      STORE,
      REFUSE,
      HOLD
    }

    private final Function<A, T> store;
    private final List<Write<A, T>> calls = new ArrayList<>();
    private final Deque<Object> script = new ArrayDeque<>();
    private Object standing = Step.STORE;

    private Writes(Function<A, T> store) {
      this.store = store;
    }

    /** The next {@code times} calls fail as a full disk would. */
    public synchronized Writes<A, T> thenRefuse(int times) {
      for (int i = 0; i < times; i++) {
        script.add(Step.REFUSE);
      }
      return this;
    }

    /** The next call is left open: the test completes it ({@link Write#commit} …). */
    public synchronized Writes<A, T> thenHold() {
      script.add(Step.HOLD);
      return this;
    }

    /** The next call completes with {@code value}, changing nothing stored. */
    public synchronized Writes<A, T> thenAnswer(T value) {
      script.add(new Fixed<>(value));
      return this;
    }

    /** The next call is answered as the store would. */
    public synchronized Writes<A, T> thenStore() {
      script.add(Step.STORE);
      return this;
    }

    /** Once the script is used up, every call fails as a full disk would. */
    public synchronized Writes<A, T> alwaysRefuse() {
      standing = Step.REFUSE;
      return this;
    }

    /** Once the script is used up, every call is left open for the test to complete. */
    public synchronized Writes<A, T> alwaysHold() {
      standing = Step.HOLD;
      return this;
    }

    /** Once the script is used up, every call is answered as the store would (the default). */
    public synchronized Writes<A, T> alwaysStore() {
      standing = Step.STORE;
      return this;
    }

    public synchronized List<Write<A, T>> calls() {
      return List.copyOf(calls);
    }

    public synchronized int count() {
      return calls.size();
    }

    public synchronized Write<A, T> last() {
      return calls.get(calls.size() - 1);
    }

    CompletableFuture<T> call(A args) {
      Write<A, T> write;
      Object step;
      synchronized (this) {
        write = new Write<>(args, new CompletableFuture<>(), store);
        calls.add(write);
        step = script.isEmpty() ? standing : script.poll();
      }
      // completed outside the lock: the caller's callbacks run here
      if (step instanceof Fixed<?> fixed) {
        @SuppressWarnings("unchecked")
        T value = (T) fixed.value();
        write.complete(value);
      } else if (step == Step.REFUSE) {
        write.refuse();
      } else if (step == Step.STORE) {
        write.commit();
      }
      return write.future();
    }

    private record Fixed<T>(T value) {}
  }

  /** One write: what it was asked, and the future its caller holds. */
  public record Write<A, T>(A args, CompletableFuture<T> future, Function<A, T> store) {
    /** Answers it as the store would (at this moment). */
    public void commit() {
      future.complete(store.apply(args));
    }

    /** Answers it with {@code value}, changing nothing stored. */
    public void complete(T value) {
      future.complete(value);
    }

    /** Fails it as a full disk would: nothing of it is written. */
    public void refuse() {
      future.completeExceptionally(
          new StoreUnavailableException(
              "database or disk is full", new java.sql.SQLException("SQLITE_FULL")));
    }
  }

  // ---------------------------------------------------------------- the store's rules

  private static boolean claimable(QueuedDelivery d, Instant now) {
    return d.state() == DeliveryState.PENDING
        || (d.state() == DeliveryState.RETRY_SCHEDULED && !d.nextAttemptAt().isAfter(now));
  }

  private static QueuedDelivery moved(QueuedDelivery d, DeliveryState state, Instant next) {
    return new QueuedDelivery(
        d.id(),
        d.eventId(),
        d.source(),
        d.route(),
        d.destination(),
        d.partitionKey(),
        d.eventTime(),
        d.receivedAt(),
        d.seq(),
        state,
        d.attempts(),
        d.firstAttemptAt(),
        next,
        d.payload(),
        d.headers());
  }

  private synchronized Boolean claimNow(Claim c) {
    Row row = rows.get(c.id());
    if (row == null || !claimable(row.d(), c.now())) {
      return false;
    }
    rows.put(
        c.id(),
        new Row(moved(row.d(), DeliveryState.IN_FLIGHT, row.d().nextAttemptAt()), c.token()));
    return true;
  }

  private synchronized Boolean finishNow(Finished f) {
    Finish finish = f.finish();
    Row row = rows.get(finish.id());
    if (row == null
        || row.d().state() != DeliveryState.IN_FLIGHT
        || !finish.token().equals(row.token())) {
      return false;
    }
    QueuedDelivery d = row.d();
    QueuedDelivery after =
        switch (finish) {
          case Finish.Delivered ok -> moved(d, DeliveryState.DELIVERED, d.nextAttemptAt());
          case Finish.Retry retry -> moved(d, DeliveryState.RETRY_SCHEDULED, retry.nextAttemptAt());
          case Finish.Dead dead -> moved(d, DeliveryState.DEAD, d.nextAttemptAt());
          case Finish.Skipped skipped -> moved(d, DeliveryState.SKIPPED, d.nextAttemptAt());
        };
    rows.put(d.id(), new Row(after, null));
    return true;
  }

  private synchronized List<QueuedDelivery> claimDueNow(ClaimDue c) {
    List<QueuedDelivery> claimed = new ArrayList<>();
    for (Row row : due(c.destination(), null, c.now())) {
      if (claimed.size() >= c.limit() || c.heldRoutes().contains(row.d().route())) {
        continue;
      }
      QueuedDelivery d = moved(row.d(), DeliveryState.IN_FLIGHT, row.d().nextAttemptAt());
      rows.put(d.id(), new Row(d, c.token()));
      claimed.add(d);
    }
    return claimed;
  }

  private synchronized Integer unclaimNow(Unclaim u) {
    int back = 0;
    for (Map.Entry<DeliveryId, String> e : u.leases().entrySet()) {
      Row row = rows.get(e.getKey());
      if (row != null && e.getValue().equals(row.token())) {
        rows.put(e.getKey(), new Row(moved(row.d(), DeliveryState.PENDING, u.now()), null));
        back++;
      }
    }
    return back;
  }

  private synchronized Integer renewNow(Renew r) {
    int renewed = 0;
    for (Map.Entry<DeliveryId, String> e : r.leases().entrySet()) {
      Row row = rows.get(e.getKey());
      if (row != null && e.getValue().equals(row.token())) {
        renewed++;
      }
    }
    return renewed;
  }

  /**
   * Due rows of {@code destination} (in {@code state}, or either waiting state), in queue order.
   */
  private List<Row> due(String destination, DeliveryState state, Instant now) {
    return rows.values().stream()
        .filter(r -> r.d().destination().equals(destination))
        .filter(r -> state == null ? claimable(r.d(), now) : r.d().state() == state)
        .filter(r -> !r.d().nextAttemptAt().isAfter(now))
        .sorted(
            Comparator.comparing((Row r) -> r.d().nextAttemptAt())
                .thenComparingLong(r -> r.d().seq()))
        .toList();
  }

  // ---------------------------------------------------------------- DeliveryQueue

  @Override
  public void onCommitted(Consumer<List<QueuedDelivery>> listener) {
    calls.add("onCommitted");
    this.committed = listener;
  }

  @Override
  public CompletableFuture<Boolean> claim(
      DeliveryId id, String token, Instant now, Instant leaseUntil) {
    calls.add("claim");
    return claims.call(new Claim(id, token, now, leaseUntil));
  }

  @Override
  public CompletableFuture<Boolean> finish(Finish finish, Instant now) {
    calls.add("finish");
    return finishes.call(new Finished(finish, now));
  }

  @Override
  public CompletableFuture<Integer> renew(Map<DeliveryId, String> leases, Instant leaseUntil) {
    calls.add("renew");
    return renewals.call(new Renew(Map.copyOf(leases), leaseUntil));
  }

  @Override
  public int reapExpired(Instant now) {
    calls.add("reapExpired");
    return 0;
  }

  @Override
  public int reapAll() {
    calls.add("reapAll");
    return 0;
  }

  @Override
  public boolean singleNode() {
    return singleNode;
  }

  @Override
  public CompletableFuture<List<QueuedDelivery>> claimDue(
      String destination,
      Set<String> perKeyRoutes,
      Set<String> blockingRoutes,
      Set<String> heldRoutes,
      int limit,
      String token,
      Instant now,
      Instant leaseUntil) {
    calls.add("claimDue");
    return claimsDue.call(
        new ClaimDue(
            destination,
            Set.copyOf(perKeyRoutes),
            Set.copyOf(blockingRoutes),
            Set.copyOf(heldRoutes),
            limit,
            token,
            now,
            leaseUntil));
  }

  @Override
  public CompletableFuture<Integer> unclaim(Map<DeliveryId, String> leases, Instant now) {
    calls.add("unclaim");
    return unclaims.call(new Unclaim(Map.copyOf(leases), now));
  }

  @Override
  public AutoCloseable onWork(Consumer<String> wake) {
    calls.add("onWork");
    this.wake = wake;
    return () -> this.wake = destination -> {};
  }

  @Override
  public synchronized List<QueuedDelivery> scan(
      String destination,
      DeliveryState state,
      Instant now,
      Instant afterTime,
      long afterSeq,
      int limit) {
    calls.add("scan");
    scans.add(new Scan(destination, state, now, afterTime, afterSeq, limit));
    if (scanFailure != null) {
      throw scanFailure;
    }
    return due(destination, state, now).stream()
        .map(Row::d)
        .filter(
            d ->
                afterTime == null
                    || d.nextAttemptAt().isAfter(afterTime)
                    || (d.nextAttemptAt().equals(afterTime) && d.seq() > afterSeq))
        .limit(limit)
        .toList();
  }

  @Override
  public synchronized Optional<QueuedDelivery> earlierUnfinished(
      QueuedDelivery d, boolean includeDead) {
    calls.add("earlierUnfinished");
    Comparator<QueuedDelivery> order =
        Comparator.comparing(QueuedDelivery::eventTime).thenComparingLong(QueuedDelivery::seq);
    return rows.values().stream()
        .map(Row::d)
        .filter(e -> e.route().equals(d.route()) && e.partitionKey() != null)
        .filter(e -> e.partitionKey().equals(d.partitionKey()) && !e.id().equals(d.id()))
        .filter(
            e ->
                switch (e.state()) {
                  case PENDING, IN_FLIGHT, RETRY_SCHEDULED -> true;
                  case DEAD -> includeDead;
                  case DELIVERED, SKIPPED -> false;
                })
        .filter(e -> order.compare(e, d) < 0)
        .min(order);
  }

  @Override
  public synchronized Optional<Instant> watermark(String route, String partitionKey) {
    calls.add("watermark");
    return Optional.ofNullable(watermarks.get(List.of(route, partitionKey)));
  }

  // ---------------------------------------------------------------- not the dispatcher's core

  @Override
  public CompletableFuture<List<DeliveryRecord>> replay(
      DeliveryFilter filter, String by, Instant now) {
    throw new UnsupportedOperationException("replay");
  }

  @Override
  public CompletableFuture<Integer> discard(DeliveryFilter filter, String by, Instant now) {
    throw new UnsupportedOperationException("discard");
  }

  @Override
  public long count(DeliveryFilter filter) {
    throw new UnsupportedOperationException("count");
  }

  @Override
  public CompletableFuture<Void> setPaused(
      String destination, boolean paused, String by, Instant now) {
    throw new UnsupportedOperationException("setPaused");
  }

  @Override
  public CompletableFuture<Integer> endHold(String destination, Instant heldUntil, Instant now) {
    throw new UnsupportedOperationException("endHold");
  }

  @Override
  public CompletableFuture<List<DeliveryRecord>> expireUnattempted(
      String destination, Instant waitingSince, Instant notBefore, String error, Instant now) {
    throw new UnsupportedOperationException("expireUnattempted");
  }

  @Override
  public List<String> pausedDestinations() {
    return List.of();
  }

  @Override
  public Optional<DeliveryRecord> findDelivery(DeliveryId id) {
    throw new UnsupportedOperationException("findDelivery");
  }

  @Override
  public List<DeliveryRecord> deliveriesOf(EventId eventId) {
    throw new UnsupportedOperationException("deliveriesOf");
  }

  @Override
  public List<AttemptRecord> attemptsOf(DeliveryId id) {
    throw new UnsupportedOperationException("attemptsOf");
  }

  @Override
  public Map<DeliveryState, Long> countByState(String destination) {
    throw new UnsupportedOperationException("countByState");
  }

  @Override
  public List<DeliveryRecord> findDeliveries(DeliveryFilter filter, PagePosition after, int limit) {
    throw new UnsupportedOperationException("findDeliveries");
  }

  @Override
  public Map<DeliveryState, Long> countOpen(String destination) {
    throw new UnsupportedOperationException("countOpen");
  }
}
