package dev.switchboard.dispatch;

import static dev.switchboard.dispatch.CoreFixtures.PLAIN;
import static dev.switchboard.dispatch.CoreFixtures.T0;
import static dev.switchboard.dispatch.CoreFixtures.pending;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.domain.DeliveryState;
import dev.switchboard.observability.GatewayMetrics;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.Finish;
import dev.switchboard.store.QueuedDelivery;
import dev.switchboard.store.StoreUnavailableException;
import dev.switchboard.testing.FakeDeliveryQueue;
import dev.switchboard.testing.MutableClock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Writing an attempt's outcome against a store that refuses it for a while: written again (never
 * sent again) until it is taken or a lease has gone by, a refused claim written first with its
 * token, a fenced outcome handing the delivery back. The waits between tries, the nano-time they
 * are measured on and the loop's tasks are the test's.
 */
class OutcomesTest {
  final MutableClock clock = new MutableClock(T0);
  final FakeDeliveryQueue queue = new FakeDeliveryQueue(true);
  final CoreFixtures.Lane fixture = new CoreFixtures.Lane(clock);
  final Leases leases = new Leases(Duration.ofSeconds(1));
  final DestinationLane lane;

  /** A write waiting to be tried again, after {@code millis}. */
  record Later(long millis, Runnable task) {}

  final Deque<Later> later = new ArrayDeque<>();
  final Deque<Runnable> loop = new ArrayDeque<>();
  final List<DestinationLane> finished = new ArrayList<>();
  long nanos = 5_000_000_000L;
  boolean stopping;
  final GatewayMetrics metrics = new GatewayMetrics(clock);
  final Outcomes outcomes;

  OutcomesTest() {
    fixture.timeout = Duration.ofSeconds(1); // a lease of 2 × 1 s + 3 × the 1 s heartbeat: 5 s
    lane = fixture.build();
    outcomes =
        new Outcomes(
            queue,
            clock,
            leases,
            Duration.ofSeconds(1),
            loop::add,
            () -> stopping,
            metrics,
            new Watermarks(queue),
            () -> new FinishedOnly(finished),
            () -> nanos,
            (millis, task) -> later.add(new Later(millis, task)));
  }

  @AfterEach
  void closeMetrics() {
    metrics.close();
  }

  /** How many outcomes of {@code kind} were counted for {@code crm}. */
  double counted(String kind) {
    var counter =
        metrics
            .registry()
            .find("switchboard_deliveries")
            .tags("destination", "crm", "outcome", kind)
            .counter();
    return counter == null ? 0 : counter.count();
  }

  /** A delivery claimed with {@code token} and running in the lane; its claim committed. */
  QueuedDelivery running(String id, String token) {
    QueuedDelivery d = pending(id, PLAIN, null, 0, 1);
    queue.add(d);
    assertThat(queue.claim(d.id(), token, T0, T0.plusSeconds(5)).join()).isTrue();
    inLane(d, token);
    return d;
  }

  void inLane(QueuedDelivery d, String token) {
    lane.memory().add(d);
    assertThat(lane.startRequest()).containsExactly(d);
    lane.answered(new dev.switchboard.destination.DeliveryResult.Delivered(200, null), T0);
    leases.hold(d.id(), token);
  }

  static Finish.Delivered delivered(QueuedDelivery d, String token) {
    return new Finish.Delivered(
        d.id(),
        token,
        new AttemptRecord(1, T0, Duration.ofMillis(5), 200, "delivered", null, null),
        null);
  }

  Claimed claimed(QueuedDelivery d, String token, CompletableFuture<Boolean> unconfirmed) {
    return new Claimed(d, CoreFixtures.plan(PLAIN), token, T0, unconfirmed);
  }

  void runLoop() {
    while (!loop.isEmpty()) {
      loop.poll().run();
    }
  }

  /** Runs the next write again, after its wait (on the nano-time source too). */
  long tryAgain() {
    Later next = later.poll();
    nanos += next.millis() * 1_000_000L;
    next.task().run();
    return next.millis();
  }

  @Test
  void aRefusedOutcomeIsWrittenAgainWithGrowingWaitsUntilTheStoreTakesIt() {
    QueuedDelivery d = running("d1", "t-1");
    Finish finish = delivered(d, "t-1");
    queue.finishes.thenRefuse(3);
    List<String> lines;
    try (DispatcherLog log = new DispatcherLog()) {
      outcomes.write(lane, claimed(d, "t-1", null), finish);
      assertThat(queue.finishes.count()).isEqualTo(1);
      assertThat(leases.token(d.id())).as("held, so the heartbeat renews it").isEqualTo("t-1");
      assertThat(List.of(tryAgain(), tryAgain(), tryAgain())).containsExactly(100L, 200L, 400L);
      lines = log.messages();
    }
    assertThat(later).as("taken on the fourth try").isEmpty();
    assertThat(queue.finishes.calls())
        .extracting(w -> w.args().finish())
        .containsExactly(finish, finish, finish, finish);
    assertThat(queue.calls())
        .as("no claim again, nothing else")
        .containsExactly("claim", "finish", "finish", "finish", "finish");
    assertThat(queue.state(d.id())).isEqualTo(DeliveryState.DELIVERED);
    assertThat(leases.token(d.id())).isNull();
    assertThat(lane.memory().holds(d.id())).as("running until written").isTrue();
    runLoop();
    assertThat(lane.memory().holds(d.id())).isFalse();
    assertThat(finished).containsExactly(lane);
    assertThat(counted("delivered")).isEqualTo(1);
    assertThat(lines)
        .anyMatch(m -> m.contains("outcome not written, writing it again until the store takes it"))
        .anyMatch(m -> m.endsWith("outcome still not written (try 3)"))
        .anyMatch(m -> m.endsWith("outcome written after 3 failed tries"));
  }

  @Test
  void theWaitBetweenTriesDoublesUpToTwoSeconds() {
    fixture.timeout = Duration.ofMinutes(1);
    DestinationLane slow = fixture.build();
    QueuedDelivery d = pending("d1", PLAIN, null, 0, 1);
    queue.add(d);
    queue.finishes.alwaysRefuse();
    outcomes.write(slow, claimed(d, "t-1", null), delivered(d, "t-1"));
    List<Long> waits = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      waits.add(tryAgain());
    }
    assertThat(waits).containsExactly(100L, 200L, 400L, 800L, 1_600L, 2_000L, 2_000L);
  }

  @Test
  void anOutcomeStillRefusedAfterALeaseIsGivenUpAndTheDeliveryGivenBack() {
    QueuedDelivery d = running("d1", "t-1");
    queue.finishes.alwaysRefuse();
    lane.workTaken();
    outcomes.write(lane, claimed(d, "t-1", null), delivered(d, "t-1"));
    while (!later.isEmpty()) {
      tryAgain();
    }
    // tries at 0, 0.1, 0.3, 0.7, 1.5, 3.1 and 5.1 s: the last one is past the lease of 5 s
    assertThat(queue.finishes.count()).isEqualTo(7);
    assertThat(leases.token(d.id())).isNull();
    assertThat(queue.state(d.id())).as("left for the reaper").isEqualTo(DeliveryState.IN_FLIGHT);
    runLoop();
    assertThat(lane.memory().holds(d.id())).isFalse();
    assertThat(lane.workWanted()).as("read from the store again later").isTrue();
    assertThat(finished).as("not finished: given back").isEmpty();
    assertThat(counted("delivered")).isZero();
  }

  @Test
  void onShutdownARefusedOutcomeIsGivenUpAtOnce() {
    QueuedDelivery d = running("d1", "t-1");
    queue.finishes.thenRefuse(1);
    stopping = true;
    outcomes.write(lane, claimed(d, "t-1", null), delivered(d, "t-1"));
    assertThat(later).isEmpty();
    assertThat(queue.finishes.count()).isEqualTo(1);
    runLoop();
    assertThat(lane.memory().holds(d.id())).isFalse();
  }

  @Test
  void aClaimTheStoreRefusedIsWrittenAgainWithItsTokenBeforeTheOutcome() {
    QueuedDelivery d = pending("d1", PLAIN, null, 0, 1);
    queue.add(d); // still pending: its claim was refused, the request went all the same
    inLane(d, "t-1");
    clock.advance(Duration.ofSeconds(3));
    CompletableFuture<Boolean> refused =
        CompletableFuture.failedFuture(new StoreUnavailableException("disk full", null));
    queue.claims.thenRefuse(1);
    outcomes.write(lane, claimed(d, "t-1", refused), delivered(d, "t-1"));
    tryAgain();
    assertThat(queue.calls()).containsExactly("claim", "claim", "finish");
    assertThat(queue.claims.calls())
        .allSatisfy(
            c -> {
              assertThat(c.args().token()).isEqualTo("t-1");
              assertThat(c.args().now()).as("at the first claim's time").isEqualTo(T0);
            });
    assertThat(queue.claims.last().args().leaseUntil()).isEqualTo(clock.instant().plusSeconds(5));
    assertThat(queue.state(d.id())).isEqualTo(DeliveryState.DELIVERED);
    runLoop();
    assertThat(finished).containsExactly(lane);
  }

  @Test
  void aClaimThatCommittedIsNotWrittenAgain() {
    QueuedDelivery d = running("d1", "t-1");
    outcomes.write(
        lane, claimed(d, "t-1", CompletableFuture.completedFuture(true)), delivered(d, "t-1"));
    assertThat(queue.calls()).containsExactly("claim", "finish");
    assertThat(queue.state(d.id())).isEqualTo(DeliveryState.DELIVERED);
  }

  @Test
  void anOutcomeFencedOffByTheTokenGivesTheDeliveryBack() {
    QueuedDelivery d = running("d1", "t-2"); // reaped and claimed again by another token
    leases.hold(d.id(), "t-1");
    lane.workTaken();
    outcomes.write(lane, claimed(d, "t-1", null), delivered(d, "t-1"));
    assertThat(queue.finishes.last().future().join()).as("written").isFalse();
    assertThat(later).isEmpty();
    assertThat(leases.token(d.id())).isNull();
    runLoop();
    assertThat(lane.memory().holds(d.id())).isFalse();
    assertThat(lane.workWanted()).isTrue();
    assertThat(finished).containsExactly(lane);
    assertThat(queue.state(d.id())).isEqualTo(DeliveryState.IN_FLIGHT);
    assertThat(counted("delivered")).as("not counted: another holds it").isZero();
  }

  @Test
  void aWrittenRetryKeepsItsKeyUntilItComesBack() {
    QueuedDelivery first = CoreFixtures.pending("k-1", CoreFixtures.ORDERED, "k", 1, 1);
    QueuedDelivery second = CoreFixtures.pending("k-2", CoreFixtures.ORDERED, "k", 2, 2);
    queue.add(first, second);
    queue.claim(first.id(), "t-1", T0, T0.plusSeconds(5)).join();
    lane.memory().add(second);
    inLane(first, "t-1");
    Finish retry =
        new Finish.Retry(
            first.id(),
            "t-1",
            new AttemptRecord(1, T0, Duration.ofMillis(5), 503, "retry", "http 503", null),
            T0.plusSeconds(30),
            "http_5xx");
    outcomes.write(lane, claimed(first, "t-1", null), retry);
    runLoop();
    assertThat(lane.memory().holds(first.id())).isFalse();
    assertThat(lane.startRequest()).as("the key waits for the retry").isEmpty();
  }

  /** An intake that only records which lanes heard of a finished outcome. */
  record FinishedOnly(List<DestinationLane> finished) implements Intake {
    @Override
    public void finished(DestinationLane lane) {
      finished.add(lane);
    }

    @Override
    public void start() {}

    @Override
    public void poll(Collection<DestinationLane> lanes) {}

    @Override
    public void sweep(Collection<DestinationLane> lanes) {}

    @Override
    public long fill(
        DestinationLane lane, java.time.Instant now, DestinationLane.ProbeGate probes) {
      return Long.MAX_VALUE;
    }

    @Override
    public long holdBack() {
      return 0;
    }

    @Override
    public List<Claimed> claim(
        DestinationLane lane, List<QueuedDelivery> batch, List<QueuedDelivery> open) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void returnWaiting(DestinationLane lane) {}

    @Override
    public int claimsOut() {
      return 0;
    }

    @Override
    public void close() {}
  }
}
