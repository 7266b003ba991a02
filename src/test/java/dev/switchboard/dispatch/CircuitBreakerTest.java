package dev.switchboard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.DestinationConfig;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
  final Instant t0 = Instant.parse("2026-10-27T14:30:00Z");
  final CircuitBreaker breaker =
      new CircuitBreaker(new DestinationConfig.Breaker(3, Duration.ofSeconds(30)));

  @Test
  void opensAfterTheThresholdOfFailuresInARowAndProbesOnceWhenItsTimeIsUp() {
    breaker.failed(t0);
    breaker.failed(t0);
    assertThat(breaker.allows(t0)).isTrue();
    breaker.failed(t0);
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(breaker.allows(t0.plusSeconds(29))).isFalse();
    assertThat(breaker.allows(t0.plusSeconds(30))).isTrue();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    breaker.admitted();
    assertThat(breaker.allows(t0.plusSeconds(30))).as("one probe at a time").isFalse();
    breaker.failed(t0.plusSeconds(31));
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(breaker.allows(t0.plusSeconds(60))).isFalse();
    assertThat(breaker.allows(t0.plusSeconds(61))).isTrue();
    breaker.admitted();
    breaker.succeeded();
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(breaker.allows(t0.plusSeconds(61))).isTrue();
  }

  @Test
  void aSuccessResetsTheCountAndAProbeWithoutARequestFreesTheSlot() {
    breaker.failed(t0);
    breaker.failed(t0);
    breaker.succeeded();
    breaker.failed(t0);
    breaker.failed(t0);
    assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    breaker.failed(t0);
    assertThat(breaker.allows(t0.plusSeconds(30))).isTrue();
    breaker.admitted();
    breaker.noAttempt(); // e.g. the probe turned out stale: no request was made
    assertThat(breaker.allows(t0.plusSeconds(30))).isTrue();
  }
}
