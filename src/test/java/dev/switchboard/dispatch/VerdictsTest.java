package dev.switchboard.dispatch;

import static dev.switchboard.dispatch.CoreFixtures.ORDERED;
import static dev.switchboard.dispatch.CoreFixtures.PLAIN;
import static dev.switchboard.dispatch.CoreFixtures.T0;
import static dev.switchboard.dispatch.CoreFixtures.pending;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.RouteConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.store.Finish;
import dev.switchboard.store.QueuedDelivery;
import dev.switchboard.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What an answer means for the delivery (its outcome) and for the destination (the signal). */
class VerdictsTest {
  final MutableClock clock = new MutableClock(T0);
  final CoreFixtures.Lane fixture = new CoreFixtures.Lane(clock);
  final Instant now = T0.plusSeconds(1);

  Verdicts.Try tryOf(DestinationLane lane, QueuedDelivery d, int number) {
    return new Verdicts.Try(lane, d, "t-1", T0, number, T0, Duration.ofMillis(40));
  }

  static Attempted answered(DeliveryResult result) {
    return new Attempted(null, result);
  }

  static List<Attempted> all(DeliveryResult... results) {
    List<Attempted> attempted = new ArrayList<>();
    Arrays.stream(results).map(VerdictsTest::answered).forEach(attempted::add);
    return attempted;
  }

  static DeliveryResult.RetryLater retry(Duration after) {
    return new DeliveryResult.RetryLater("http 503", 503, after, null);
  }

  // ---------------------------------------------------------------- signal

  @Test
  void aRequestWhoseDeliveriesAllRetryFailedWithTheLongestWaitAskedFor() {
    DeliveryResult.RetryLater longest = retry(Duration.ofSeconds(30));
    assertThat(Verdicts.signal(all(retry(null), longest, retry(Duration.ofSeconds(5)))))
        .isSameAs(longest);
    DeliveryResult.RetryLater first = retry(null);
    assertThat(Verdicts.signal(all(first, retry(null)))).isSameAs(first);
  }

  @Test
  void aRequestWithOneDeliveryTakenSucceededButTheLongestWaitStillHolds() {
    assertThat(
            Verdicts.signal(
                all(
                    new DeliveryResult.Delivered(201, "ok", Duration.ofSeconds(10)),
                    retry(Duration.ofSeconds(30)),
                    new DeliveryResult.Rejected("http 400", 400, null))))
        .isEqualTo(new DeliveryResult.Delivered(200, null, Duration.ofSeconds(30)));
    assertThat(
            Verdicts.signal(
                all(
                    retry(Duration.ofSeconds(5)),
                    new DeliveryResult.Delivered(200, null, Duration.ofMinutes(1)))))
        .isEqualTo(new DeliveryResult.Delivered(200, null, Duration.ofMinutes(1)));
    assertThat(Verdicts.signal(all(new DeliveryResult.Rejected("http 422", 422, null))))
        .isEqualTo(new DeliveryResult.Delivered(200, null, null));
  }

  @Test
  void noRequestNoSignal() {
    assertThat(Verdicts.signal(List.of())).isNull();
    assertThat(Verdicts.signal(all((DeliveryResult) null, null))).isNull();
    DeliveryResult.RetryLater only = retry(null);
    List<Attempted> mixed = all((DeliveryResult) null, only);
    assertThat(Verdicts.signal(mixed)).as("a stale skip beside a request").isSameAs(only);
  }

  // ---------------------------------------------------------------- decide

  @Test
  void deliveredOnAPerKeyRouteThatSkipsStaleEventsMovesTheWatermark() {
    DestinationLane lane = fixture.build();
    QueuedDelivery d = pending("d1", ORDERED, "k", 5, 1);
    RouteConfig route = CoreFixtures.table().route(ORDERED);
    Finish finish =
        Verdicts.decide(
            tryOf(lane, d, 1), route, true, new DeliveryResult.Delivered(202, "ok"), now);
    assertThat(finish)
        .isInstanceOfSatisfying(
            Finish.Delivered.class,
            ok -> {
              assertThat(ok.watermark())
                  .isEqualTo(new Finish.Watermark(ORDERED, "k", T0.plusSeconds(5)));
              assertThat(ok.attempt().status()).isEqualTo(202);
              assertThat(ok.attempt().outcome()).isEqualTo("delivered");
              assertThat(ok.attempt().excerpt()).isEqualTo("ok");
              assertThat(ok.token()).isEqualTo("t-1");
            });
    Finish plain =
        Verdicts.decide(
            tryOf(lane, pending("d2", PLAIN, null, 0, 2), 1),
            CoreFixtures.table().route(PLAIN),
            false,
            new DeliveryResult.Delivered(200, null),
            now);
    assertThat(((Finish.Delivered) plain).watermark()).isNull();
  }

  @Test
  void aRejectionIsDeadAtOnceUnlessItsStatusIsRetriedOn() {
    fixture.retry =
        new DestinationConfig.Retry(
            Duration.ofSeconds(1), Duration.ofMinutes(15), 0, Duration.ofHours(24), Set.of(409));
    DestinationLane lane = fixture.build();
    QueuedDelivery d = pending("d1", PLAIN, null, 0, 1);
    RouteConfig route = CoreFixtures.table().route(PLAIN);
    Finish dead =
        Verdicts.decide(
            tryOf(lane, d, 1),
            route,
            false,
            new DeliveryResult.Rejected("http 400", 400, "bad"),
            now);
    assertThat(dead)
        .isInstanceOfSatisfying(
            Finish.Dead.class,
            x -> {
              assertThat(x.error()).isEqualTo("http 400");
              assertThat(x.errorClass()).isEqualTo("http_4xx");
              assertThat(x.attempt().outcome()).isEqualTo("dead");
              assertThat(x.attempt().excerpt()).isEqualTo("bad");
            });
    Finish retried =
        Verdicts.decide(
            tryOf(lane, d, 1),
            route,
            false,
            new DeliveryResult.Rejected("http 409", 409, null),
            now);
    assertThat(retried)
        .isInstanceOfSatisfying(
            Finish.Retry.class,
            r -> {
              assertThat(r.errorClass()).isEqualTo("http_4xx");
              assertThat(r.attempt().outcome()).isEqualTo("retry");
              assertThat(r.attempt().error()).isEqualTo("http 409");
              assertThat(r.nextAttemptAt()).isBetween(now, now.plusSeconds(1));
            });
  }

  @Test
  void aRetryWaitsAtLeastWhatTheServerAskedForCutToItsCap() {
    fixture.retry =
        new DestinationConfig.Retry(
            Duration.ofSeconds(1),
            Duration.ofMinutes(15),
            0,
            Duration.ofHours(24),
            Set.of(),
            Duration.ofMinutes(10));
    DestinationLane lane = fixture.build();
    QueuedDelivery d = pending("d1", PLAIN, null, 0, 1);
    Finish.Retry asked =
        (Finish.Retry) Verdicts.retryOrDie(tryOf(lane, d, 1), retry(Duration.ofSeconds(90)), now);
    assertThat(asked.nextAttemptAt()).isEqualTo(now.plusSeconds(90));
    assertThat(asked.errorClass()).isEqualTo("http_5xx");
    Finish.Retry cut =
        (Finish.Retry) Verdicts.retryOrDie(tryOf(lane, d, 1), retry(Duration.ofDays(400)), now);
    assertThat(cut.nextAttemptAt()).isEqualTo(now.plus(Duration.ofMinutes(10)));
    DeliveryResult.RetryLater notBefore =
        new DeliveryResult.RetryLater("jira search lag", 0, null, null, Duration.ofSeconds(45));
    Finish.Retry own = (Finish.Retry) Verdicts.retryOrDie(tryOf(lane, d, 1), notBefore, now);
    assertThat(own.nextAttemptAt()).isEqualTo(now.plusSeconds(45));
  }

  @Test
  void aRetryPastTheLimitsIsDeadWithTheReasonAndTheLastError() {
    fixture.retry =
        new DestinationConfig.Retry(
            Duration.ofSeconds(1), Duration.ofMinutes(15), 3, Duration.ofHours(24));
    DestinationLane lane = fixture.build();
    QueuedDelivery d = pending("d1", PLAIN, null, 0, 1);
    Finish dead = Verdicts.retryOrDie(tryOf(lane, d, 3), retry(null), now);
    assertThat(dead)
        .isInstanceOfSatisfying(
            Finish.Dead.class,
            x -> {
              assertThat(x.error()).isEqualTo("max_attempts (3) reached; last error: http 503");
              assertThat(x.errorClass()).isEqualTo("http_5xx");
              assertThat(x.attempt().number()).isEqualTo(3);
              assertThat(x.attempt().outcome()).isEqualTo("dead");
            });
  }

  @Test
  void theErrorClassIsTheResultsOwnNeverReadFromItsText() {
    DestinationLane lane = fixture.build();
    QueuedDelivery d = pending("d1", PLAIN, null, 0, 1);
    Finish.Retry timeout =
        (Finish.Retry)
            Verdicts.retryOrDie(
                tryOf(lane, d, 1),
                DeliveryResult.RetryLater.noAnswer(
                    ErrorClass.TIMEOUT, "connection reset after 30s", null, null),
                now);
    assertThat(timeout.errorClass()).as("the class set, not the words").isEqualTo("timeout");
    Finish.Retry status =
        (Finish.Retry)
            Verdicts.retryOrDie(
                tryOf(lane, d, 1),
                new DeliveryResult.RetryLater("timeout upstream", 503, null, null),
                now);
    assertThat(status.errorClass()).isEqualTo("http_5xx");
    Finish.Dead refused =
        (Finish.Dead)
            Verdicts.decide(
                tryOf(lane, d, 1),
                CoreFixtures.table().route(PLAIN),
                false,
                new DeliveryResult.Rejected("no", 422, null, ErrorClass.HTTP_4XX),
                now);
    assertThat(refused.errorClass()).isEqualTo("http_4xx");
  }
}
