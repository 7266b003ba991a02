package dev.switchboard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.DeliveryFilter;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.FakeDestination.Request;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delivery engine end to end: a real gateway on SQLite, events posted over HTTP, delivered to a
 * scripted fake receiver on 127.0.0.1. The gateway's clock is a {@link MutableClock}: backoff,
 * {@code Retry-After}, breakers and rate limits move only when the test moves it.
 */
class DeliveryIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration SETTLE = Duration.ofMillis(400);
  static final AtomicInteger SEQ = new AtomicInteger();

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:05Z"));
  final FakeDestination crm = new FakeDestination();
  final FakeDestination other = new FakeDestination();
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    crm.close();
    other.close();
  }

  /** A source {@code calls} (no verification, key = interactionId|timestamp) and the given rest. */
  void start(String routesAndDestinations) throws Exception {
    String yaml =
        """
        sources:
          calls:
            verify: { scheme: none }
            idempotency: { key: interactionId & '|' & timestamp }
            event_time: timestamp
            partition_key: interactionId
        """
            + routesAndDestinations;
    gw =
        GatewayFixture.start(
            dir,
            yaml,
            Map.of("CRM", crm.uri("/in").toString(), "OTHER", other.uri("/in").toString()),
            clock);
  }

  static String simpleRoute(String destinationExtras) {
    return """
        routes:
          to-crm:
            from: calls
            to: crm
        destinations:
          crm:
            type: http
            url: ${CRM}
        """
        + destinationExtras;
  }

  String post(String interactionId, String timestamp, String code) throws Exception {
    HttpResponse<String> r =
        gw.post(
            "calls",
            GatewayFixture.utf8(
                """
                {"interactionId":"%s","timestamp":"%s","disposition":{"code":"%s"}}"""
                    .formatted(interactionId, timestamp, code)),
            Map.of());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  String post() throws Exception {
    return post("i-" + SEQ.incrementAndGet(), "2026-10-27T14:30:00Z", "RESOLVED");
  }

  DeliveryRecord only(String eventId) {
    List<DeliveryRecord> all = gw.gateway().deliveries().deliveriesOf(new EventId(eventId));
    assertThat(all).hasSize(1);
    return all.get(0);
  }

  DeliveryRecord of(String eventId, String route) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).stream()
        .filter(d -> d.route().equals(route))
        .findFirst()
        .orElseThrow();
  }

  DeliveryState stateOf(String eventId) {
    return only(eventId).state();
  }

  List<AttemptRecord> attempts(String eventId) {
    return gw.gateway().deliveries().attempts(only(eventId).id());
  }

  static JsonNode body(Request r) throws Exception {
    return JSON.readTree(r.body());
  }

  /** Asserts nothing more reaches {@code fake} for a while (the wait is the assertion). */
  static void staysAt(FakeDestination fake, int count) {
    await()
        .during(SETTLE)
        .atMost(SETTLE.plusSeconds(2))
        .until(() -> fake.requests().size() == count);
  }

  /**
   * The store cannot take the attempt's outcome for a while (here another process holds SQLite's
   * write lock, as a full disk or a store outage would refuse it): the outcome is written when the
   * store takes writes again, without waiting for the lease (a minute here) and without a second
   * request to the destination. How often and when it is written again is OutcomesTest's.
   */
  @Test
  void anOutcomeTheStoreRefusedIsWrittenOnceItTakesWritesAgainWithoutASecondSend()
      throws Exception {
    start(simpleRoute("    timeout: 30s\n"));
    crm.answer(Answer.DEFAULT.after(Duration.ofMillis(300)));
    try (Connection lock =
        DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("switchboard.db"))) {
      String id = post();
      await().atMost(Duration.ofSeconds(5)).until(() -> crm.requests().size() == 1);
      await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(id) == DeliveryState.IN_FLIGHT);
      try (Statement s = lock.createStatement()) {
        s.execute("BEGIN EXCLUSIVE"); // every write of the gateway now fails (busy)
      }
      // answered 300 ms after it arrived, its outcome is refused, and refused again (each try
      // waits out the store's 2 s busy timeout): in flight all along, and never sent again
      await("the outcome refused while the store is locked")
          .during(Duration.ofSeconds(7))
          .atMost(Duration.ofSeconds(10))
          .until(() -> stateOf(id) == DeliveryState.IN_FLIGHT && crm.requests().size() == 1);
      try (Statement s = lock.createStatement()) {
        s.execute("ROLLBACK");
      }
      long freed = System.nanoTime();
      await().atMost(Duration.ofSeconds(10)).until(() -> stateOf(id) == DeliveryState.DELIVERED);
      assertThat(Duration.ofNanos(System.nanoTime() - freed)).isLessThan(Duration.ofSeconds(5));
      staysAt(crm, 1);
      assertThat(attempts(id)).hasSize(1);
    }
  }

  /**
   * The store refuses claims but still commits writes that change nothing (a full disk: a claim
   * needs new pages, a fenced outcome whose claim never committed does not). The attempt already
   * under way is recorded once the store takes writes again, not sent a second time; while claims
   * are refused nothing else is sent — each attempt waits for its claim — and the deliveries go
   * once each when the store takes claims again. How long attempts hold back between refused claims
   * (100 ms, doubling to 5 s) is LocalIntakeTest's.
   */
  @Test
  void whileTheStoreRefusesClaimsNothingIsSentAndNothingTwice() throws Exception {
    start(simpleRoute("    timeout: 30s\n"));
    crm.answer(Answer.DEFAULT.after(Duration.ofMillis(300)));
    try (Connection db =
            DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("switchboard.db"));
        Statement s = db.createStatement()) {
      s.execute("PRAGMA busy_timeout = 5000");
      s.execute(
          "CREATE TRIGGER refuse_claims BEFORE UPDATE OF state ON deliveries"
              + " WHEN NEW.state = 'in_flight'"
              + " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
      String first = post(); // sent before its claim's refusal is known
      await().atMost(Duration.ofSeconds(5)).until(() -> crm.requests().size() == 1);
      // its claim was refused (the trigger aborts it at once, long before this settles): it
      // stays pending although its request went, and is not sent again
      await("the first claim refused")
          .during(SETTLE)
          .atMost(SETTLE.plusSeconds(2))
          .until(() -> stateOf(first) == DeliveryState.PENDING && crm.requests().size() == 1);
      String second = post(); // its attempt waits for its claim, which is refused
      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () ->
                  stateOf(second) == DeliveryState.PENDING
                      && stateOf(first) == DeliveryState.PENDING);
      await("nothing more sent while claims are refused")
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(4))
          .until(
              () ->
                  crm.requests().size() == 1
                      && stateOf(first) == DeliveryState.PENDING
                      && stateOf(second) == DeliveryState.PENDING);
      s.execute("DROP TRIGGER refuse_claims");
      await()
          .atMost(Duration.ofSeconds(15))
          .until(
              () ->
                  stateOf(first) == DeliveryState.DELIVERED
                      && stateOf(second) == DeliveryState.DELIVERED);
      staysAt(crm, 2);
      assertThat(crm.countByHeader("Idempotency-Key"))
          .containsOnly(
              Map.entry(only(first).id().value(), 1L), Map.entry(only(second).id().value(), 1L));
      assertThat(attempts(first)).hasSize(1);
      assertThat(attempts(second)).hasSize(1);
    }
  }

  @Test
  void anEventIsDeliveredWithItsPayloadAndAStableIdempotencyKey() throws Exception {
    start(simpleRoute(""));
    String eventId = post("i-1", "2026-10-27T14:30:00Z", "RESOLVED");
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DELIVERED);
    assertThat(crm.requests()).hasSize(1);
    Request r = crm.requests().get(0);
    assertThat(r.method()).isEqualTo("POST");
    assertThat(body(r).path("interactionId").asText()).isEqualTo("i-1");
    assertThat(r.header("Idempotency-Key")).isEqualTo(only(eventId).id().value());
    List<AttemptRecord> attempts = attempts(eventId);
    assertThat(attempts).hasSize(1);
    assertThat(attempts.get(0).status()).isEqualTo(202);
    assertThat(attempts.get(0).outcome()).isEqualTo("delivered");
    assertThat(gw.gateway().store().countUnfinishedDeliveries()).isZero();
  }

  @Test
  void aServerErrorIsRetriedWithTheSameIdempotencyKey() throws Exception {
    crm.answer(Answer.status(500).body("boom"));
    start(simpleRoute("    retry: { initial: 1s, max_delay: 1m }\n"));
    String eventId = post();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> stateOf(eventId) == DeliveryState.RETRY_SCHEDULED);
    assertThat(crm.requests()).hasSize(1);
    assertThat(only(eventId).errorClass()).isEqualTo("http_5xx");
    clock.advance(Duration.ofSeconds(2)); // past the first backoff (at most 1 s)
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DELIVERED);
    assertThat(crm.requests()).hasSize(2);
    assertThat(crm.countByHeader("Idempotency-Key")).containsOnlyKeys(only(eventId).id().value());
    assertThat(attempts(eventId))
        .extracting(AttemptRecord::number, AttemptRecord::status, AttemptRecord::outcome)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1, 500, "retry"),
            org.assertj.core.groups.Tuple.tuple(2, 202, "delivered"));
    assertThat(attempts(eventId).get(0).excerpt()).isEqualTo("boom");
  }

  @Test
  void aClientErrorIsDeadAtOnce() throws Exception {
    crm.answer(Answer.status(400).body("{\"error\":\"bad field\"}"));
    start(simpleRoute(""));
    String eventId = post();
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DEAD);
    clock.advance(Duration.ofHours(1));
    staysAt(crm, 1);
    DeliveryRecord dead = only(eventId);
    assertThat(dead.lastError()).isEqualTo("http 400");
    assertThat(dead.errorClass()).isEqualTo("http_4xx");
    assertThat(attempts(eventId))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.status()).isEqualTo(400);
              assertThat(a.excerpt()).contains("bad field");
            });
  }

  @Test
  void aConfiguredStatusIsRetriedInsteadOfDeadLettered() throws Exception {
    crm.answer(Answer.status(409));
    start(simpleRoute("    retry: { initial: 1s, retry_on: [409] }\n"));
    String eventId = post();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> stateOf(eventId) == DeliveryState.RETRY_SCHEDULED);
    clock.advance(Duration.ofSeconds(2));
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DELIVERED);
  }

  @Test
  void retryAfterHoldsTheWholeDestinationWithoutSpendingAttempts() throws Exception {
    crm.answer(Answer.status(429).header("Retry-After", "30"));
    start(simpleRoute("    retry: { initial: 1s }\n"));
    String first = post();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> stateOf(first) == DeliveryState.RETRY_SCHEDULED);
    String second = post();
    String third = post();
    clock.advance(Duration.ofSeconds(29));
    staysAt(crm, 1); // the whole destination waits, not only the delivery that got the 429
    assertThat(stateOf(second)).isEqualTo(DeliveryState.PENDING);
    assertThat(only(second).attempts()).isZero();
    clock.advance(Duration.ofSeconds(2));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                stateOf(first) == DeliveryState.DELIVERED
                    && stateOf(second) == DeliveryState.DELIVERED
                    && stateOf(third) == DeliveryState.DELIVERED);
    assertThat(attempts(first)).hasSize(2);
    assertThat(attempts(second)).hasSize(1);
    assertThat(attempts(third)).hasSize(1);
    // the retry of the first honoured Retry-After as a floor on its own backoff
    assertThat(only(first).attempts()).isEqualTo(2);
  }

  @Test
  void theRateLimitIsNeverExceeded() throws Exception {
    start(simpleRoute("    rate_limit: 2/second\n"));
    for (int i = 0; i < 8; i++) {
      post();
    }
    // the clock stands still: one token, so one send
    await().atMost(Duration.ofSeconds(5)).until(() -> crm.requests().size() == 1);
    staysAt(crm, 1);
    for (int step = 1; step <= 4; step++) {
      clock.advance(Duration.ofMillis(500)); // one more token per 500 ms of the gateway's clock
      int expected = 1 + step;
      await().atMost(Duration.ofSeconds(5)).until(() -> crm.requests().size() >= expected);
      staysAt(crm, expected);
    }
  }

  @Test
  void anOpenBreakerSpendsNoAttempts() throws Exception {
    crm.answer(Answer.status(503), Answer.status(503), Answer.status(503));
    start(
        simpleRoute(
            "    concurrency: 1\n"
                + "    retry: { initial: 1s }\n"
                + "    circuit_breaker: { failures: 2, open_for: 60s }\n"));
    String a = post();
    await().atMost(Duration.ofSeconds(5)).until(() -> crm.requests().size() == 1);
    String b = post();
    await().atMost(Duration.ofSeconds(5)).until(() -> crm.requests().size() == 2);
    String c = post();
    String d = post();
    staysAt(crm, 2); // open: c and d wait
    clock.advance(Duration.ofSeconds(30));
    staysAt(crm, 2); // still open; a and b are due but wait too
    assertThat(only(c).attempts()).isZero();
    assertThat(only(d).attempts()).isZero();
    assertThat(only(a).attempts()).isEqualTo(1);
    clock.advance(Duration.ofSeconds(31)); // half-open: one probe, which fails (third 503)
    await().atMost(Duration.ofSeconds(5)).until(() -> crm.requests().size() == 3);
    staysAt(crm, 3);
    clock.advance(Duration.ofSeconds(61)); // half-open again; the probe succeeds and it closes
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                List.of(a, b, c, d).stream().allMatch(e -> stateOf(e) == DeliveryState.DELIVERED));
    assertThat(crm.requests()).hasSize(7); // 3 failures, then each of the 4 once
    int spent = 0;
    for (String e : List.of(a, b, c, d)) {
      spent += attempts(e).size();
    }
    assertThat(spent).isEqualTo(7);
  }

  @Test
  void aTransformErrorDeadLettersThatRouteOnly() throws Exception {
    start(
        """
        routes:
          good:
            from: calls
            to: crm
            transform: '{ "id": interactionId, "code": disposition.code }'
          broken:
            from: calls
            to: other
            transform: '{ "n": interactionId + 1 }'
        destinations:
          crm:
            type: http
            url: ${CRM}
          other:
            type: http
            url: ${OTHER}
        """);
    String eventId = post("i-t", "2026-10-27T14:30:00Z", "RESOLVED");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                of(eventId, "good").state() == DeliveryState.DELIVERED
                    && of(eventId, "broken").state() == DeliveryState.DEAD);
    assertThat(body(crm.requests().get(0)).toString())
        .isEqualTo("{\"id\":\"i-t\",\"code\":\"RESOLVED\"}");
    assertThat(other.requests()).isEmpty();
    DeliveryRecord broken = of(eventId, "broken");
    assertThat(broken.lastError()).startsWith("transform failed:");
    assertThat(broken.errorClass()).isEqualTo("transform");
    // recorded as one attempt with no request: a transform error fails the same way every time
    assertThat(gw.gateway().deliveries().attempts(broken.id()))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.status()).isZero();
              assertThat(a.outcome()).isEqualTo("dead");
              assertThat(a.error()).startsWith("transform failed:");
            });
  }

  @Test
  void fanOutDeliveriesLiveTheirOwnLives() throws Exception {
    other.answer(Answer.status(404));
    start(
        """
        routes:
          a:
            from: calls
            to: crm
          b:
            from: calls
            to: other
          never:
            from: calls
            when: disposition.code = "FAILED"
            to: crm
        destinations:
          crm:
            type: http
            url: ${CRM}
          other:
            type: http
            url: ${OTHER}
        """);
    String eventId = post();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                of(eventId, "a").state() == DeliveryState.DELIVERED
                    && of(eventId, "b").state() == DeliveryState.DEAD);
    assertThat(of(eventId, "never").state()).isEqualTo(DeliveryState.SKIPPED);
    assertThat(of(eventId, "never").lastError()).contains("filtered");
    staysAt(crm, 1);
    assertThat(of(eventId, "a").id()).isNotEqualTo(of(eventId, "b").id());
  }

  static final String PER_KEY =
      """
      routes:
        ordered:
          from: calls
          to: crm
          ordering: per-key
          stale: skip
      destinations:
        crm:
          type: http
          url: ${CRM}
      """;

  @Test
  void aLateOlderEventIsStaleAndNeverSent() throws Exception {
    start(PER_KEY);
    String resolved = post("same", "2026-10-27T14:31:00Z", "RESOLVED");
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(resolved) == DeliveryState.DELIVERED);
    String pending = post("same", "2026-10-27T14:30:00Z", "PENDING");
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(pending) == DeliveryState.SKIPPED);
    assertThat(only(pending).lastError()).startsWith("stale");
    staysAt(crm, 1);
    assertThat(body(crm.requests().get(0)).path("disposition").path("code").asText())
        .isEqualTo("RESOLVED");
  }

  @Test
  void oneKeyGoesInEventTimeOrderOneAtATimeWhileOtherKeysRunInParallel() throws Exception {
    start(PER_KEY + "    concurrency: 8\n");
    gw.gateway().deliveries().pause("crm", "test");
    String c = post("k1", "2026-10-27T14:33:00Z", "C");
    String a = post("k1", "2026-10-27T14:31:00Z", "A");
    String b = post("k1", "2026-10-27T14:32:00Z", "B");
    String x = post("k2", "2026-10-27T14:31:00Z", "X");
    staysAt(crm, 0);
    crm.answer(
        Answer.DEFAULT.after(Duration.ofMillis(300)),
        Answer.DEFAULT.after(Duration.ofMillis(300)),
        Answer.DEFAULT.after(Duration.ofMillis(300)),
        Answer.DEFAULT.after(Duration.ofMillis(300)));
    gw.gateway().deliveries().resume("crm", "test");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                List.of(a, b, c, x).stream().allMatch(e -> stateOf(e) == DeliveryState.DELIVERED));
    List<Request> k1 = crm.requests().stream().filter(r -> bodyText(r).contains("\"k1\"")).toList();
    assertThat(k1).extracting(r -> codeOf(r)).containsExactly("A", "B", "C");
    // one at a time: each k1 request arrived after the previous one was answered (300 ms)
    for (int i = 1; i < k1.size(); i++) {
      assertThat(Duration.between(k1.get(i - 1).arrivedAt(), k1.get(i).arrivedAt()))
          .isGreaterThanOrEqualTo(Duration.ofMillis(290));
    }
    // k2 did not wait for k1: it arrived while A was still being answered
    Request k2 =
        crm.requests().stream()
            .filter(r -> bodyText(r).contains("\"k2\""))
            .findFirst()
            .orElseThrow();
    assertThat(Duration.between(k1.get(0).arrivedAt(), k2.arrivedAt()).abs())
        .isLessThan(Duration.ofMillis(250));
  }

  @Test
  void aDeadHeadDoesNotBlockItsKeyByDefault() throws Exception {
    crm.answer(Answer.status(422));
    start(PER_KEY);
    String first = post("k", "2026-10-27T14:31:00Z", "A");
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(first) == DeliveryState.DEAD);
    String second = post("k", "2026-10-27T14:32:00Z", "B");
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(second) == DeliveryState.DELIVERED);
  }

  @Test
  void onDeadBlockHoldsTheKeyUntilTheDeadLetterIsHandled() throws Exception {
    crm.answer(Answer.status(422));
    start(PER_KEY.replace("stale: skip", "stale: skip\n    on_dead: block"));
    String first = post("k", "2026-10-27T14:31:00Z", "A");
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(first) == DeliveryState.DEAD);
    String second = post("k", "2026-10-27T14:32:00Z", "B");
    String otherKey = post("k-other", "2026-10-27T14:32:00Z", "C");
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(otherKey) == DeliveryState.DELIVERED);
    staysAt(crm, 2);
    assertThat(stateOf(second)).isEqualTo(DeliveryState.PENDING);
    assertThat(
            gw.gateway()
                .deliveries()
                .discard(DeliveryFilter.deadLetters().destination("crm"), "ops@example.com"))
        .isEqualTo(1);
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(second) == DeliveryState.DELIVERED);
    assertThat(only(first).state()).isEqualTo(DeliveryState.SKIPPED);
    assertThat(only(first).handledBy()).isEqualTo("ops@example.com");
  }

  @Test
  void aPausedDestinationHoldsEverythingAndResumesInOrder() throws Exception {
    start(simpleRoute("    concurrency: 1\n"));
    gw.gateway().deliveries().pause("crm", "ops");
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(post("p-" + i, "2026-10-27T14:30:00Z", "RESOLVED"));
    }
    staysAt(crm, 0);
    assertThat(gw.gateway().deliveries().destinations())
        .singleElement()
        .satisfies(s -> assertThat(s.paused()).isTrue());
    gw.gateway().deliveries().resume("crm", "ops");
    await().atMost(Duration.ofSeconds(5)).until(() -> crm.requests().size() == 5);
    assertThat(crm.requests())
        .extracting(r -> interactionOf(r))
        .containsExactly("p-0", "p-1", "p-2", "p-3", "p-4");
    for (String id : ids) {
      assertThat(attempts(id)).hasSize(1);
    }
  }

  @Test
  void aPauseSurvivesARestart() throws Exception {
    start(simpleRoute(""));
    gw.gateway().deliveries().pause("crm", "ops");
    String eventId = post();
    gw.close();
    gw = null;
    start(simpleRoute(""));
    staysAt(crm, 0);
    gw.gateway().deliveries().resume("crm", "ops");
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DELIVERED);
  }

  @Test
  void bulkReplaySendsDeadLettersOnceMoreWithTheirKeys() throws Exception {
    crm.answer(Answer.status(400), Answer.status(400), Answer.status(400));
    start(simpleRoute(""));
    List<String> ids = List.of(post(), post(), post());
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> ids.stream().allMatch(e -> stateOf(e) == DeliveryState.DEAD));
    DeliveryService service = gw.gateway().deliveries();
    DeliveryFilter filter = DeliveryFilter.deadLetters().destination("crm").errorClass("http_4xx");
    assertThat(service.count(filter)).isEqualTo(3); // dry run
    assertThat(service.count(DeliveryFilter.deadLetters().errorClass("timeout"))).isZero();
    assertThat(service.replay(filter, "ops@example.com")).isEqualTo(3);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> ids.stream().allMatch(e -> stateOf(e) == DeliveryState.DELIVERED));
    assertThat(crm.requests()).hasSize(6);
    for (String id : ids) {
      DeliveryRecord d = only(id);
      assertThat(crm.countByHeader("Idempotency-Key").get(d.id().value())).isEqualTo(2L);
      assertThat(d.replays()).isEqualTo(1);
      assertThat(d.handledBy()).isEqualTo("ops@example.com");
      assertThat(gw.gateway().deliveries().attempts(d.id()))
          .extracting(AttemptRecord::outcome)
          .containsExactly("dead", "delivered");
    }
    assertThat(service.count(filter)).isZero();
  }

  @Test
  void theAdminApiPausesAndResumesWithTheToken() throws Exception {
    start("admin: { token: t0ken }\n" + simpleRoute(""));
    var pause =
        java.net.http.HttpRequest.newBuilder(gw.uri("/api/v1/destinations/crm/pause"))
            .POST(java.net.http.HttpRequest.BodyPublishers.noBody());
    assertThat(gw.send(pause.build()).statusCode()).isEqualTo(401);
    assertThat(gw.send(pause.header("Authorization", "Bearer wrong").build()).statusCode())
        .isEqualTo(401);
    var authed =
        java.net.http.HttpRequest.newBuilder(gw.uri("/api/v1/destinations/crm/pause"))
            .header("Authorization", "Bearer t0ken")
            .POST(java.net.http.HttpRequest.BodyPublishers.noBody());
    assertThat(gw.send(authed.build()).statusCode()).isEqualTo(204);
    String eventId = post();
    staysAt(crm, 0);
    var resume =
        java.net.http.HttpRequest.newBuilder(gw.uri("/api/v1/destinations/crm/resume"))
            .header("Authorization", "Bearer t0ken")
            .POST(java.net.http.HttpRequest.BodyPublishers.noBody());
    assertThat(gw.send(resume.build()).statusCode()).isEqualTo(204);
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(eventId) == DeliveryState.DELIVERED);
  }

  static String bodyText(Request r) {
    return r.bodyText();
  }

  static String codeOf(Request r) {
    try {
      return body(r).path("disposition").path("code").asText();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static String interactionOf(Request r) {
    try {
      return body(r).path("interactionId").asText();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
