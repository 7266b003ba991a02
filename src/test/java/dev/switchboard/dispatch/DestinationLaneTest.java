package dev.switchboard.dispatch;

import static dev.switchboard.dispatch.CoreFixtures.ORDERED;
import static dev.switchboard.dispatch.CoreFixtures.PLAIN;
import static dev.switchboard.dispatch.CoreFixtures.T0;
import static dev.switchboard.dispatch.CoreFixtures.pending;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.RateLimit;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.store.QueuedDelivery;
import dev.switchboard.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A lane's admission on a clock the test moves: pause, server hold, breaker, rate and concurrency,
 * and what an answer does to them.
 */
class DestinationLaneTest {
  final MutableClock clock = new MutableClock(T0);
  final CoreFixtures.Lane fixture = new CoreFixtures.Lane(clock);
  long seq;

  static final DestinationLane.ProbeGate REFUSES = (lane, now) -> false;

  Instant now() {
    return clock.instant();
  }

  /** {@code n} deliveries of the plain route waiting in the lane's memory. */
  void waiting(DestinationLane lane, int n) {
    for (int i = 0; i < n; i++) {
      seq++;
      lane.memory().add(pending("d" + seq, PLAIN, null, 0, seq));
    }
  }

  static DeliveryResult.RetryLater failed(Duration retryAfter) {
    return new DeliveryResult.RetryLater("http 503", 503, retryAfter, null);
  }

  /** Opens the breaker: {@code failures} requests in a row told to retry. */
  void failTimes(DestinationLane lane, int failures) {
    for (int i = 0; i < failures; i++) {
      waiting(lane, 1);
      QueuedDelivery d = lane.startRequest().get(0);
      lane.answered(failed(null), now());
      lane.release(d, false);
    }
  }

  // ---------------------------------------------------------------- open

  @Test
  void aPausedLaneIsNotOpenUntilResumed() {
    DestinationLane lane = fixture.build();
    assertThat(lane.open(now())).isTrue();
    lane.pause();
    assertThat(lane.open(now())).isFalse();
    assertThat(lane.resume(now())).as("no hold was running").isNull();
    assertThat(lane.open(now())).isTrue();
  }

  @Test
  void aHeldLaneIsNotOpenUntilTheHoldEnds() {
    DestinationLane lane = fixture.build();
    lane.hold(T0.plusSeconds(10), "http 429 asked for 10s", now());
    assertThat(lane.open(now())).isFalse();
    assertThat(lane.held(now())).isTrue();
    assertThat(lane.heldSince()).isEqualTo(T0);
    clock.advance(Duration.ofSeconds(10));
    assertThat(lane.open(now())).isTrue();
    assertThat(lane.held(now())).isFalse();
  }

  @Test
  void aLaneWithoutItsConnectorIsNotOpenAndSaysWhy() {
    fixture.connector = null;
    DestinationLane lane = fixture.build();
    assertThat(lane.available()).isFalse();
    assertThat(lane.open(now())).isFalse();
    assertThat(lane.status(now()).unavailableReason()).isEqualTo("no connector");
  }

  // ---------------------------------------------------------------- breaker

  @Test
  void anOpenBreakerAdmitsNothingUntilItsTimeIsUpThenOneProbe() {
    fixture.breaker = new DestinationConfig.Breaker(2, Duration.ofSeconds(30));
    DestinationLane lane = fixture.build();
    failTimes(lane, 1);
    assertThat(lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE)).isZero();
    failTimes(lane, 1);
    assertThat(lane.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE))
        .isEqualTo(Long.MAX_VALUE);
    clock.advance(Duration.ofSeconds(29));
    assertThat(lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE))
        .isEqualTo(Long.MAX_VALUE);

    clock.advance(Duration.ofSeconds(1));
    assertThat(lane.untilAdmitted(now(), REFUSES))
        .as("another node probes")
        .isEqualTo(Long.MAX_VALUE);
    assertThat(lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE)).isZero();
    assertThat(lane.probing()).isTrue();
    waiting(lane, 1);
    assertThat(lane.room(100)).as("a probe is one delivery").isEqualTo(1);
    assertThat(lane.startRequest()).hasSize(1);
    assertThat(lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE))
        .as("the probe runs")
        .isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void aProbeThatMadeNoRequestLetsTheNextOneProbe() {
    fixture.breaker = new DestinationConfig.Breaker(1, Duration.ofSeconds(30));
    DestinationLane lane = fixture.build();
    failTimes(lane, 1);
    clock.advance(Duration.ofSeconds(30));
    waiting(lane, 1);
    assertThat(lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE)).isZero();
    lane.startRequest();
    lane.noAttempt(false); // stale, or its claim was lost
    assertThat(lane.running()).isZero();
    assertThat(lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE)).isZero();
  }

  // ---------------------------------------------------------------- rate and concurrency

  @Test
  void aSpentRateWaitsUntilTheClockRefillsIt() {
    fixture.rate = new RateLimit(2, Duration.ofSeconds(1));
    DestinationLane lane = fixture.build();
    waiting(lane, 3);
    assertThat(lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE)).isZero();
    lane.startRequest();
    long wait = lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE);
    assertThat(wait).isPositive().isLessThanOrEqualTo(Duration.ofMillis(500).toNanos());
    clock.advance(Duration.ofMillis(499));
    assertThat(lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE))
        .isBetween(Duration.ofMillis(1).toNanos(), Duration.ofMillis(2).toNanos());
    clock.advance(Duration.ofMillis(1));
    assertThat(lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE)).isZero();
  }

  @Test
  void noMoreRequestsStartThanTheConcurrencyAllows() {
    fixture.concurrency = 2;
    DestinationLane lane = fixture.build();
    assertThat(lane.hasWorkToStart()).as("nothing waits").isFalse();
    waiting(lane, 3);
    assertThat(lane.hasWorkToStart()).isTrue();
    QueuedDelivery first = lane.startRequest().get(0);
    lane.startRequest();
    assertThat(lane.running()).isEqualTo(2);
    assertThat(lane.waiting()).isEqualTo(1);
    assertThat(lane.hasWorkToStart()).as("both slots taken").isFalse();
    lane.answered(new DeliveryResult.Delivered(200, null), now());
    lane.release(first, false);
    assertThat(lane.running()).isEqualTo(1);
    assertThat(lane.hasWorkToStart()).isTrue();
  }

  @Test
  void aRequestTakesUpToTheBatchSizeAndNeverTwoOfOneKey() {
    fixture.connector = new CoreFixtures.Connector(3);
    DestinationLane lane = fixture.build();
    QueuedDelivery a = pending("a", ORDERED, "k1", 1, 1);
    QueuedDelivery b = pending("b", ORDERED, "k1", 2, 2);
    QueuedDelivery c = pending("c", ORDERED, "k2", 1, 3);
    QueuedDelivery d = pending("d", PLAIN, null, 0, 4);
    QueuedDelivery e = pending("e", PLAIN, null, 0, 5);
    for (QueuedDelivery q : new QueuedDelivery[] {a, b, c, d, e}) {
      lane.memory().add(q);
    }
    assertThat(lane.startRequest()).containsExactly(a, c, d);
    assertThat(lane.running()).as("a batch is one request").isEqualTo(1);
    assertThat(lane.startRequest()).as("b waits for a").containsExactly(e);
    assertThat(lane.startRequest()).isEmpty();
    assertThat(lane.running()).as("an empty batch is no request").isEqualTo(2);
    lane.release(a, false);
    assertThat(lane.startRequest()).containsExactly(b);
  }

  // ---------------------------------------------------------------- answers

  @Test
  void aDeliveredAnswerThatSaysTheQuotaIsSpentHoldsTheLane() {
    DestinationLane lane = fixture.build();
    waiting(lane, 1);
    lane.startRequest();
    DestinationLane.Before before =
        lane.answered(new DeliveryResult.Delivered(200, null, Duration.ofSeconds(20)), now());
    assertThat(before)
        .isEqualTo(
            new DestinationLane.Before(CircuitBreaker.State.CLOSED, Instant.MIN, Instant.MIN));
    assertThat(lane.running()).isZero();
    assertThat(lane.heldUntil()).isEqualTo(T0.plusSeconds(20));
    assertThat(lane.holdReason()).isEqualTo("quota spent (rate-limit reset) asked for 20s");
    assertThat(lane.status(now()).lastError()).isNull();
  }

  @Test
  void aRetryLaterCountsAgainstTheBreakerHoldsTheLaneAndIsTheLastError() {
    fixture.breaker = new DestinationConfig.Breaker(1, Duration.ofSeconds(30));
    DestinationLane lane = fixture.build();
    lane.hold(T0.plusSeconds(5), "earlier", now());
    clock.advance(Duration.ofSeconds(5));
    waiting(lane, 1);
    lane.startRequest();
    DestinationLane.Before before = lane.answered(failed(Duration.ofSeconds(30)), now());
    assertThat(before)
        .isEqualTo(
            new DestinationLane.Before(
                CircuitBreaker.State.CLOSED, Instant.MIN, T0.plusSeconds(5)));
    assertThat(lane.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(lane.breakerOpenUntil()).isEqualTo(now().plusSeconds(30));
    assertThat(lane.heldUntil()).isEqualTo(now().plusSeconds(30));
    assertThat(lane.heldSince()).as("a hold after an ended one begins anew").isEqualTo(now());
    assertThat(lane.holdReason()).isEqualTo("http 503 asked for 30s");
    DestinationStatus status = lane.status(now());
    assertThat(status.lastError()).isEqualTo("http 503");
    assertThat(status.lastErrorAt()).isEqualTo(now());
    assertThat(status.breaker()).isEqualTo("open");
  }

  @Test
  void aRejectionMeansTheDestinationIsUpButIsTheLastError() {
    fixture.breaker = new DestinationConfig.Breaker(1, Duration.ofSeconds(30));
    DestinationLane lane = fixture.build();
    failTimes(lane, 1);
    clock.advance(Duration.ofSeconds(30));
    waiting(lane, 1);
    lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE); // half-open
    lane.startRequest();
    DestinationLane.Before before =
        lane.answered(new DeliveryResult.Rejected("http 400", 400, "bad field"), now());
    assertThat(before.breaker()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    assertThat(before.breakerOpenUntil()).isEqualTo(T0.plusSeconds(30));
    assertThat(lane.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(lane.held(now())).isFalse();
    assertThat(lane.status(now()).lastError()).isEqualTo("http 400");
  }

  @Test
  void aServerWaitIsCutToMaxServerDelayAndTheReasonSaysSo() {
    fixture.retry =
        new DestinationConfig.Retry(
            Duration.ofSeconds(1),
            Duration.ofMinutes(15),
            0,
            Duration.ofHours(24),
            Set.of(),
            Duration.ofMinutes(15));
    DestinationLane lane = fixture.build();
    waiting(lane, 1);
    lane.startRequest();
    lane.answered(failed(Duration.ofSeconds(99_999_999)), now());
    assertThat(lane.heldUntil()).isEqualTo(T0.plus(Duration.ofMinutes(15)));
    assertThat(lane.holdReason()).isEqualTo("http 503 asked for 99999999s, cut to 15m");
    assertThat(lane.capServerWait(Duration.ofSeconds(99_999_999)))
        .isEqualTo(Duration.ofMinutes(15));
    assertThat(lane.capServerWait(Duration.ofMinutes(2))).isEqualTo(Duration.ofMinutes(2));
    assertThat(lane.capServerWait(null)).isNull();

    lane.holdFor(Duration.ofMinutes(1), now(), "shorter");
    assertThat(lane.holdReason()).as("a shorter wait changes nothing").startsWith("http 503");
    assertThat(lane.heldUntil()).isEqualTo(T0.plus(Duration.ofMinutes(15)));
  }

  @Test
  void resumeEndsTheHoldAndReturnsUntilWhenItWouldHaveLasted() {
    DestinationLane lane = fixture.build();
    lane.holdFor(Duration.ofSeconds(60), now(), "http 429");
    lane.workTaken();
    assertThat(lane.resume(now())).isEqualTo(T0.plusSeconds(60));
    assertThat(lane.heldUntil()).isEqualTo(Instant.MIN);
    assertThat(lane.holdReason()).isNull();
    assertThat(lane.workWanted()).as("held work may be waiting in the store").isTrue();
    assertThat(lane.open(now())).isTrue();

    lane.holdFor(Duration.ofSeconds(60), now(), "http 429");
    clock.advance(Duration.ofSeconds(61));
    assertThat(lane.resume(now())).as("the hold was over").isNull();
  }

  // ---------------------------------------------------------------- room

  @Test
  void roomIsTwoRoundsOfSlotsWithoutARateLimitLessWhatWaits() {
    fixture.concurrency = 2;
    DestinationLane lane = fixture.build();
    assertThat(lane.room(100)).isEqualTo(4);
    assertThat(lane.room(3)).as("at most what was asked").isEqualTo(3);
    waiting(lane, 1);
    assertThat(lane.room(100)).isEqualTo(3);
    lane.startRequest();
    assertThat(lane.room(100)).as("a running one takes a slot").isEqualTo(3);
    waiting(lane, 3);
    assertThat(lane.room(100)).isZero();
  }

  @Test
  void roomUnderARateLimitIsOneRoundOfSlotsTimesTheBatch() {
    fixture.concurrency = 2;
    fixture.rate = new RateLimit(10, Duration.ofSeconds(1));
    fixture.connector = new CoreFixtures.Connector(5);
    DestinationLane lane = fixture.build();
    assertThat(lane.room(100)).isEqualTo(10);
    waiting(lane, 4);
    assertThat(lane.room(100)).isEqualTo(6);
  }

  @Test
  void roomForAProbeIsOneDelivery() {
    fixture.breaker = new DestinationConfig.Breaker(1, Duration.ofSeconds(30));
    DestinationLane lane = fixture.build();
    failTimes(lane, 1);
    clock.advance(Duration.ofSeconds(30));
    lane.untilAdmitted(now(), DestinationLane.ProbeGate.ALONE);
    assertThat(lane.probing()).isTrue();
    assertThat(lane.room(100)).isEqualTo(1);
  }
}
