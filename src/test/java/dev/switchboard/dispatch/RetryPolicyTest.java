package dev.switchboard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.config.DestinationConfig.Retry;
import dev.switchboard.dispatch.RetryPolicy.Decision;
import dev.switchboard.dispatch.RetryPolicy.GiveUp;
import dev.switchboard.dispatch.RetryPolicy.RetryAt;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  private static final Instant FIRST = Instant.parse("2025-03-01T12:00:00Z");
  private static final Retry ONE_SECOND_TO_FIFTEEN_MINUTES =
      new Retry(Duration.ofSeconds(1), Duration.ofMinutes(15), 0, Duration.ofHours(24));

  private static RetryPolicy policy(Retry retry) {
    return new RetryPolicy(retry, new SplittableRandom(42));
  }

  /** Always draws the top of the range, so the cap itself is visible. */
  private static final RandomGenerator HIGHEST =
      new RandomGenerator() {
        @Override
        public long nextLong() {
          return Long.MAX_VALUE;
        }

        @Override
        public long nextLong(long bound) {
          return bound - 1;
        }
      };

  @Test
  void capDoublesFromInitialAndStopsAtMaxDelay() {
    RetryPolicy policy = new RetryPolicy(ONE_SECOND_TO_FIFTEEN_MINUTES, HIGHEST);
    assertThat(policy.backoff(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(policy.backoff(2)).isEqualTo(Duration.ofSeconds(2));
    assertThat(policy.backoff(3)).isEqualTo(Duration.ofSeconds(4));
    assertThat(policy.backoff(10)).isEqualTo(Duration.ofSeconds(512));
    assertThat(policy.backoff(11)).isEqualTo(Duration.ofMinutes(15));
    assertThat(policy.backoff(12)).isEqualTo(Duration.ofMinutes(15));
  }

  @Test
  void jitterStaysWithinZeroAndTheCapAndVaries() {
    RetryPolicy policy = policy(ONE_SECOND_TO_FIFTEEN_MINUTES);
    for (int attempt = 1; attempt <= 14; attempt++) {
      Duration cap = Duration.ofMillis(policy.capMillis(attempt));
      Set<Duration> seen = new HashSet<>();
      for (int i = 0; i < 2_000; i++) {
        Duration d = policy.backoff(attempt);
        assertThat(d).isBetween(Duration.ZERO, cap);
        seen.add(d);
      }
      assertThat(seen).as("distinct waits at attempt %d", attempt).hasSizeGreaterThan(100);
    }
  }

  @Test
  void jitterIsSpreadOverTheWholeRange() {
    RetryPolicy policy = policy(ONE_SECOND_TO_FIFTEEN_MINUTES);
    long cap = policy.capMillis(20);
    long low = 0;
    long high = 0;
    for (int i = 0; i < 10_000; i++) {
      long ms = policy.backoff(20).toMillis();
      low += ms < cap / 4 ? 1 : 0;
      high += ms > cap * 3 / 4 ? 1 : 0;
    }
    assertThat(low).isBetween(2_000L, 3_000L);
    assertThat(high).isBetween(2_000L, 3_000L);
  }

  @Test
  void sameSeedGivesTheSameSchedule() {
    RetryPolicy a = policy(ONE_SECOND_TO_FIFTEEN_MINUTES);
    RetryPolicy b = policy(ONE_SECOND_TO_FIFTEEN_MINUTES);
    for (int attempt = 1; attempt <= 20; attempt++) {
      assertThat(a.backoff(attempt)).isEqualTo(b.backoff(attempt));
    }
  }

  @Test
  void veryLateAttemptsDoNotOverflow() {
    RetryPolicy policy = new RetryPolicy(ONE_SECOND_TO_FIFTEEN_MINUTES, HIGHEST);
    assertThat(policy.backoff(63)).isEqualTo(Duration.ofMinutes(15));
    assertThat(policy.backoff(64)).isEqualTo(Duration.ofMinutes(15));
    assertThat(policy.backoff(200)).isEqualTo(Duration.ofMinutes(15));
    assertThat(policy.backoff(Integer.MAX_VALUE)).isEqualTo(Duration.ofMinutes(15));
    RetryPolicy huge =
        new RetryPolicy(
            new Retry(Duration.ofDays(1), Duration.ofDays(36_500), 0, Duration.ofDays(36_500)),
            HIGHEST);
    assertThat(huge.backoff(200)).isEqualTo(Duration.ofDays(36_500));
    assertThat(policy(ONE_SECOND_TO_FIFTEEN_MINUTES).next(200, FIRST, FIRST, null))
        .isInstanceOf(RetryAt.class);
  }

  @Test
  void attemptsStartAtOne() {
    assertThatThrownBy(() -> policy(ONE_SECOND_TO_FIFTEEN_MINUTES).backoff(0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void retriesAtNowPlusTheBackoff() {
    RetryPolicy policy = new RetryPolicy(ONE_SECOND_TO_FIFTEEN_MINUTES, HIGHEST);
    Instant now = FIRST.plusSeconds(10);
    assertThat(policy.next(3, FIRST, now, null)).isEqualTo(new RetryAt(now.plusSeconds(4)));
  }

  @Test
  void givesUpWhenMaxAttemptsAreUsed() {
    RetryPolicy policy =
        policy(new Retry(Duration.ofSeconds(1), Duration.ofMinutes(15), 12, Duration.ofHours(24)));
    assertThat(policy.next(11, FIRST, FIRST, null)).isInstanceOf(RetryAt.class);
    assertThat(policy.next(12, FIRST, FIRST, null))
        .isEqualTo(new GiveUp("max_attempts (12) reached"));
    assertThat(policy.next(13, FIRST, FIRST, null)).isInstanceOf(GiveUp.class);
  }

  @Test
  void zeroMaxAttemptsMeansNoCap() {
    RetryPolicy policy = policy(ONE_SECOND_TO_FIFTEEN_MINUTES);
    assertThat(policy.next(1_000, FIRST, FIRST.plusSeconds(60), null)).isInstanceOf(RetryAt.class);
  }

  @Test
  void givesUpWhenTheNextTryWouldFallAfterMaxAge() {
    RetryPolicy policy = new RetryPolicy(ONE_SECOND_TO_FIFTEEN_MINUTES, HIGHEST);
    Instant deadline = FIRST.plus(Duration.ofHours(24));
    // 15 minutes before the deadline a full 15-minute wait still fits ...
    assertThat(policy.next(20, FIRST, deadline.minus(Duration.ofMinutes(15)), null))
        .isEqualTo(new RetryAt(deadline));
    // ... one second later it does not
    assertThat(policy.next(20, FIRST, deadline.minus(Duration.ofMinutes(15)).plusSeconds(1), null))
        .isEqualTo(new GiveUp("max_age (24h) exceeded"));
    assertThat(policy.next(1, FIRST, deadline.plusSeconds(1), null))
        .isEqualTo(new GiveUp("max_age (24h) exceeded"));
  }

  @Test
  void retryAfterIsAMinimumNotAReplacement() {
    RetryPolicy policy = new RetryPolicy(ONE_SECOND_TO_FIFTEEN_MINUTES, HIGHEST);
    Instant now = FIRST.plusSeconds(5);
    // the destination asks for longer than the backoff: it wins
    assertThat(policy.next(1, FIRST, now, Duration.ofSeconds(120)))
        .isEqualTo(new RetryAt(now.plusSeconds(120)));
    // it asks for less than the backoff: the backoff wins
    assertThat(policy.next(10, FIRST, now, Duration.ofSeconds(2)))
        .isEqualTo(new RetryAt(now.plusSeconds(512)));
    assertThat(policy.next(10, FIRST, now, Duration.ZERO))
        .isEqualTo(new RetryAt(now.plusSeconds(512)));
  }

  @Test
  void retryAfterIsHonouredOverManyJitteredDraws() {
    RetryPolicy policy = policy(ONE_SECOND_TO_FIFTEEN_MINUTES);
    Instant now = FIRST.plusSeconds(5);
    for (int i = 0; i < 1_000; i++) {
      Decision d = policy.next(5, FIRST, now, Duration.ofSeconds(10));
      assertThat(((RetryAt) d).at()).isBetween(now.plusSeconds(10), now.plusSeconds(16));
    }
  }

  @Test
  void aRetryAfterBeyondMaxAgeGivesUpInsteadOfOverflowing() {
    RetryPolicy policy = policy(ONE_SECOND_TO_FIFTEEN_MINUTES);
    assertThat(policy.next(1, FIRST, FIRST, Duration.ofHours(25)))
        .isEqualTo(new GiveUp("max_age (24h) exceeded"));
    assertThat(policy.next(1, FIRST, FIRST, Duration.ofSeconds(Long.MAX_VALUE)))
        .isInstanceOf(GiveUp.class);
  }

  @Test
  void maxAgeIsReportedInConfigUnits() {
    RetryPolicy policy =
        policy(new Retry(Duration.ofSeconds(1), Duration.ofMinutes(15), 0, Duration.ofMinutes(90)));
    assertThat(policy.next(1, FIRST, FIRST, Duration.ofHours(2)))
        .isEqualTo(new GiveUp("max_age (90m) exceeded"));
  }

  @Test
  void aWaitOfAnyLengthAServerAskedForCanBeShown() {
    // Retry-After: +999999999-12-31T23:59:59Z, read as a time, is a wait toMillis cannot hold
    Duration ages = Duration.between(Instant.parse("2026-01-01T00:00:00Z"), Instant.MAX);
    assertThat(RetryPolicy.compact(ages)).endsWith("d");
    assertThat(RetryPolicy.compact(Duration.ofSeconds(99_999_999))).isEqualTo("99999999s");
    assertThat(RetryPolicy.compact(Duration.ofHours(1))).isEqualTo("1h");
  }
}
