package dev.switchboard.fuzz;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/**
 * While fuzzing (JAZZER_FUZZ set), the gateway's per-request logging would cost most of the time.
 */
final class FuzzLogging {
  private FuzzLogging() {}

  static void quietWhileFuzzing() {
    String fuzz = System.getenv("JAZZER_FUZZ");
    if (fuzz != null && !fuzz.isBlank() && !fuzz.equals("0")) {
      ((Logger) LoggerFactory.getLogger("dev.switchboard")).setLevel(Level.OFF);
    }
  }
}
