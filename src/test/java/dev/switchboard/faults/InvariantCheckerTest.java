package dev.switchboard.faults;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.faults.FlappingDestination.Mode;
import dev.switchboard.faults.FlappingDestination.Receipt;
import dev.switchboard.faults.InvariantChecker.Ack;
import dev.switchboard.faults.InvariantChecker.Report;
import dev.switchboard.faults.InvariantChecker.Setup;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checker catches each kind of violation it claims to (on a hand-made SQLite store). */
class InvariantCheckerTest {
  static final Setup SETUP =
      new Setup("calls", 3, Duration.ofSeconds(2), Duration.ofMillis(100), List.of(), true);

  @TempDir Path dir;
  Connection c;
  final List<Receipt> receipts = new ArrayList<>();
  final Map<String, Ack> acks = new java.util.HashMap<>();
  long seq;

  @BeforeEach
  void store() throws Exception {
    c = InvariantChecker.connect("jdbc:sqlite:" + dir.resolve("t.db"), null, null);
    try (Statement s = c.createStatement()) {
      s.execute("CREATE TABLE events (id TEXT, source TEXT, idempotency_key TEXT)");
      s.execute(
          "CREATE TABLE deliveries (id TEXT, event_id TEXT, destination TEXT, state TEXT,"
              + " attempts INTEGER)");
      s.execute(
          "CREATE TABLE attempts (delivery_id TEXT, number INTEGER, started_at BIGINT,"
              + " duration_ms BIGINT, status INTEGER, outcome TEXT)");
    }
    // a healthy event: stored, delivered, received once with its delivery id as key
    event("k1", "evt_1", "dlv_1", "delivered");
    attempt("dlv_1", 1_000, 10, 200, "delivered");
    receipt("dlv_1", "k1", 1_000, 200, 0);
  }

  void event(String key, String eventId, String deliveryId, String state) throws Exception {
    try (Statement s = c.createStatement()) {
      s.execute("INSERT INTO events VALUES ('%s', 'calls', '%s')".formatted(eventId, key));
      s.execute(
          "INSERT INTO deliveries VALUES ('%s', '%s', 'crm', '%s', 1)"
              .formatted(deliveryId, eventId, state));
    }
    acks.put(key, new Ack(key, eventId, 202));
  }

  void attempt(String deliveryId, long at, long ms, int status, String outcome) throws Exception {
    try (Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO attempts VALUES ('%s', 1, %d, %d, %d, '%s')"
              .formatted(deliveryId, at, ms, status, outcome));
    }
  }

  void receipt(String key, String eventKey, long at, int status, int retryAfter) {
    Mode mode = status == 200 ? Mode.OK : status == 429 ? Mode.THROTTLE : Mode.ERROR;
    receipts.add(new Receipt(++seq, key, eventKey, "/crm", at, at + 1, mode, status, retryAfter));
  }

  boolean held(String nameStart) throws Exception {
    Report r = InvariantChecker.check(c, SETUP, acks, receipts);
    return r.verdicts().stream()
        .filter(v -> v.name().startsWith(nameStart))
        .findFirst()
        .orElseThrow()
        .held();
  }

  @Test
  void aHealthyRunHoldsEverything() throws Exception {
    Report r = InvariantChecker.check(c, SETUP, acks, receipts);
    assertThat(r.allHeld()).as(r.markdown()).isTrue();
    assertThat(r.verdicts()).hasSize(7);
  }

  @Test
  void anAcknowledgedEventMissingOrStoredTwiceFails() throws Exception {
    acks.put("lost", new Ack("lost", "evt_lost", 202));
    assertThat(held("every 2xx'd event stored")).isFalse();
    acks.remove("lost");
    try (Statement s = c.createStatement()) {
      s.execute("INSERT INTO events VALUES ('evt_1b', 'calls', 'k1')");
    }
    assertThat(held("every 2xx'd event stored")).isFalse();
  }

  @Test
  void anUnfinishedOrInFlightDeliveryFails() throws Exception {
    event("k2", "evt_2", "dlv_2", "in_flight");
    assertThat(held("every delivery of a 2xx'd event")).isFalse();
    assertThat(held("nothing stuck in_flight")).isFalse();
  }

  @Test
  void aDeliveredDeliveryNeverAnswered200Fails() throws Exception {
    event("k2", "evt_2", "dlv_2", "delivered");
    receipt("dlv_2", "k2", 2_000, 503, 0);
    assertThat(held("every delivered delivery received")).isFalse();
  }

  @Test
  void aRepeatUnderAnotherKeyOrAnUnknownKeyFails() throws Exception {
    receipt("dlv_other", "k1", 3_000, 200, 0);
    assertThat(held("repeats carry")).isFalse();
    receipts.removeLast();
    receipt("dlv_1", "k1", 3_000, 200, 0); // a true repeat: same key
    assertThat(held("repeats carry")).isTrue();
  }

  @Test
  void aRequestInsideARetryAfterPauseFails() throws Exception {
    event("k2", "evt_2", "dlv_2", "delivered");
    receipt("dlv_2", "k2", 10_000, 429, 3);
    receipt("dlv_2", "k2", 11_000, 200, 0); // 1 s into a 3 s pause
    assertThat(held("no request during a Retry-After")).isFalse();
    receipts.removeLast();
    receipt("dlv_2", "k2", 13_050, 200, 0); // after it
    assertThat(held("no request during a Retry-After")).isTrue();
  }

  @Test
  void anAttemptWhileTheReplayedBreakerIsOpenFails() throws Exception {
    event("k2", "evt_2", "dlv_2", "delivered");
    attempt("dlv_2", 20_000, 10, 503, "retry");
    attempt("dlv_2", 20_100, 10, 0, "retry");
    attempt("dlv_2", 20_200, 10, 503, "retry"); // third failure: open until 22 210
    attempt("dlv_2", 21_000, 10, 200, "delivered"); // inside
    assertThat(held("no attempt started while the breaker")).isFalse();
    try (Statement s = c.createStatement()) {
      s.execute("UPDATE attempts SET started_at = 22300 WHERE started_at = 21000");
    }
    assertThat(held("no attempt started while the breaker")).isTrue(); // the probe, after it
  }

  @Test
  void refusalsCloseTheReplayedBreaker() throws Exception {
    event("k2", "evt_2", "dlv_2", "dead");
    attempt("dlv_2", 20_000, 10, 503, "retry");
    attempt("dlv_2", 20_100, 10, 503, "retry");
    attempt("dlv_2", 20_200, 10, 400, "dead"); // a refusal: the destination is up
    attempt("dlv_2", 20_300, 10, 503, "retry");
    attempt("dlv_2", 20_400, 10, 200, "delivered");
    assertThat(held("no attempt started while the breaker")).isTrue();
  }
}
