package dev.switchboard.destination.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How a wait a server asked for is read: delta seconds, an HTTP date, an ISO time, a Unix time in
 * seconds or in milliseconds, told apart by form and size; garbage is no wait at all.
 */
class ServerWaitTest {
  static final Instant NOW = Instant.parse("2026-10-27T14:30:00Z");

  static HttpOutcomes.Headers headers(Map<String, String> values) {
    return name ->
        values.entrySet().stream()
            .filter(e -> e.getKey().equalsIgnoreCase(name))
            .map(Map.Entry::getValue)
            .findFirst()
            .orElse(null);
  }

  @Test
  void deltaSecondsAreACountOfSeconds() {
    assertThat(HttpOutcomes.serverWait("120", NOW)).isEqualTo(Duration.ofSeconds(120));
    assertThat(HttpOutcomes.serverWait(" 0 ", NOW)).isEqualTo(Duration.ZERO);
    assertThat(HttpOutcomes.serverWait("2.5", NOW)).isEqualTo(Duration.ofMillis(2_500));
    // years, taken as asked: the dispatcher cuts it to the destination's max_server_delay
    assertThat(HttpOutcomes.serverWait("99999999", NOW)).isEqualTo(Duration.ofSeconds(99_999_999));
  }

  @Test
  void anHttpDateIsMeasuredFromNow() {
    assertThat(HttpOutcomes.serverWait("Tue, 27 Oct 2026 14:31:30 GMT", NOW))
        .isEqualTo(Duration.ofSeconds(90));
    assertThat(HttpOutcomes.serverWait("Tue, 27 Oct 2026 14:29:00 GMT", NOW))
        .isEqualTo(Duration.ZERO);
  }

  @Test
  void anIsoTimeIsMeasuredFromNow() {
    assertThat(HttpOutcomes.serverWait("2026-10-27T14:35Z", NOW)).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void aUnixTimeInSecondsIsATime() {
    String in75s = Long.toString(NOW.plusSeconds(75).getEpochSecond());
    assertThat(HttpOutcomes.serverWait(in75s, NOW)).isEqualTo(Duration.ofSeconds(75));
    String past = Long.toString(NOW.minusSeconds(5).getEpochSecond());
    assertThat(HttpOutcomes.serverWait(past, NOW)).isEqualTo(Duration.ZERO);
  }

  @Test
  void aUnixTimeInMillisecondsIsATimeNotSeconds() {
    String in30s = Long.toString(NOW.plusSeconds(30).toEpochMilli());
    assertThat(HttpOutcomes.serverWait(in30s, NOW)).isEqualTo(Duration.ofSeconds(30));
    String inAQuarter = Long.toString(NOW.plusMillis(250).toEpochMilli());
    assertThat(HttpOutcomes.serverWait(inAQuarter, NOW)).isEqualTo(Duration.ofMillis(250));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"soon", "", "-5", "1e3", "0x10", "99999999999999999999999", "27/10/2026 14:35"})
  void garbageIsNoWait(String value) {
    assertThat(HttpOutcomes.serverWait(value, NOW)).isNull();
  }

  @Test
  void anEpochMillisecondsResetHeaderIsRecognised() {
    String reset = Long.toString(NOW.plusSeconds(42).toEpochMilli());
    assertThat(
            HttpOutcomes.retryAfter(
                headers(Map.of("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset)), NOW))
        .isEqualTo(Duration.ofSeconds(42));
  }

  @Test
  void aRetryAfterGivenAsAUnixTimeInMillisecondsIsATime() {
    String at = Long.toString(NOW.plusSeconds(10).toEpochMilli());
    assertThat(HttpOutcomes.retryAfter(headers(Map.of("Retry-After", at)), NOW))
        .isEqualTo(Duration.ofSeconds(10));
  }
}
