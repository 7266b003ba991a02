package dev.switchboard.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LogThrottleTest {
  final AtomicLong now = new AtomicLong(1_000);
  final LogThrottle throttle = new LogThrottle(Duration.ofNanos(100), now::get);
  final List<Long> lines = new ArrayList<>();

  @Test
  void theFirstIsLoggedThenOneLinePerIntervalCountingTheRest() {
    throttle.log(lines::add);
    for (int i = 0; i < 5; i++) {
      now.addAndGet(10);
      throttle.log(lines::add);
    }
    assertThat(lines).containsExactly(0L);
    now.addAndGet(60); // 110 after the first line
    throttle.log(lines::add);
    assertThat(lines).containsExactly(0L, 5L);
    now.addAndGet(500);
    throttle.log(lines::add);
    assertThat(lines).containsExactly(0L, 5L, 0L);
  }

  @Test
  void theEndOfALineSaysHowManyWereNotLogged() {
    assertThat(LogThrottle.more(0)).isEmpty();
    assertThat(LogThrottle.more(7)).isEqualTo(" (7 more since the last such line)");
  }
}
