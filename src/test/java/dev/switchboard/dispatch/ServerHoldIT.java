package dev.switchboard.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.cli.Main;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A wait the destination asks for ({@code Retry-After}, a rate-limit reset) holds it for no longer
 * than {@code retry.max_server_delay}, is shown to operators (admin API, CLI) with its end and its
 * cause, and ends when an operator resumes the destination. Over HTTP, with the gateway's clock a
 * {@link MutableClock}.
 */
class ServerHoldIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String TOKEN = "hold-t0ken";
  static final Duration SETTLE = Duration.ofMillis(400);
  static final AtomicInteger SEQ = new AtomicInteger();

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:05Z"));
  final FakeDestination crm = new FakeDestination();
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    crm.close();
  }

  void start(String retry) throws Exception {
    String yaml =
        """
        admin: { token: "${ADMIN_TOKEN}" }
        sources:
          calls:
            verify: { scheme: none }
            idempotency: { key: interactionId }
        routes:
          to-crm: { from: calls, to: crm }
        destinations:
          crm:
            type: http
            url: ${CRM}
            retry: %s
        """
            .formatted(retry);
    gw =
        GatewayFixture.start(
            dir, yaml, Map.of("ADMIN_TOKEN", TOKEN, "CRM", crm.uri("/in").toString()), clock);
  }

  String post() throws Exception {
    HttpResponse<String> r =
        gw.post(
            "calls",
            GatewayFixture.utf8("{\"interactionId\":\"i-" + SEQ.incrementAndGet() + "\"}"),
            Map.of());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  DeliveryRecord delivery(String eventId) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).get(0);
  }

  DeliveryState stateOf(String eventId) {
    return delivery(eventId).state();
  }

  JsonNode adminStatus() throws Exception {
    HttpResponse<String> r =
        gw.send(
            HttpRequest.newBuilder(gw.uri("/api/v1/destinations/crm"))
                .header("Authorization", "Bearer " + TOKEN)
                .build());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  String cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(new Main());
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    List<String> all = new java.util.ArrayList<>(List.of(args));
    all.addAll(List.of("--url", gw.uri("").toString(), "--token", TOKEN, "--as", "ops"));
    int exit = cmd.execute(all.toArray(String[]::new));
    assertThat(exit).as(err.toString()).isZero();
    return out.toString();
  }

  void staysAt(int count) {
    await()
        .during(SETTLE)
        .atMost(SETTLE.plusSeconds(2))
        .until(() -> crm.requests().size() == count);
  }

  @Test
  void aRetryAfterOfYearsHoldsTheDestinationForTheCapOnlyAndTheDeliveryIsSentAgainAfterIt()
      throws Exception {
    crm.answer(Answer.status(503).header("Retry-After", "99999999")); // about 3 years
    start("{ initial: 1s, max_delay: 1m, max_server_delay: 10m }");
    String first = post();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> stateOf(first) == DeliveryState.RETRY_SCHEDULED);
    String second = post();
    assertThat(delivery(first).nextAttemptAt())
        .isBeforeOrEqualTo(clock.instant().plus(Duration.ofMinutes(10)));

    clock.advance(Duration.ofMinutes(9).plusSeconds(55));
    staysAt(1); // held: neither the 503'd delivery nor the next one goes
    assertThat(stateOf(second)).isEqualTo(DeliveryState.PENDING);

    clock.advance(Duration.ofSeconds(10)); // past the cap
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                stateOf(first) == DeliveryState.DELIVERED
                    && stateOf(second) == DeliveryState.DELIVERED);
    assertThat(delivery(first).attempts()).isEqualTo(2);
  }

  @Test
  void theCapDefaultsToMaxDelay() throws Exception {
    crm.answer(Answer.status(429).header("Retry-After", "99999999"));
    start("{ initial: 1s, max_delay: 2m }");
    String first = post();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> stateOf(first) == DeliveryState.RETRY_SCHEDULED);
    JsonNode hold = adminStatus().path("hold");
    assertThat(Instant.parse(hold.path("until").asText()))
        .isEqualTo(clock.instant().plus(Duration.ofMinutes(2)));
    clock.advance(Duration.ofMinutes(2).plusSeconds(1));
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(first) == DeliveryState.DELIVERED);
  }

  @Test
  void anEpochMillisecondsRateLimitResetIsReadAsATimeNotAsSeconds() throws Exception {
    long resetMillis = clock.instant().plusSeconds(30).toEpochMilli();
    crm.answer(
        Answer.status(429)
            .header("X-RateLimit-Remaining", "0")
            .header("X-RateLimit-Reset", Long.toString(resetMillis)));
    start("{ initial: 1s, max_delay: 1h }");
    String first = post();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> stateOf(first) == DeliveryState.RETRY_SCHEDULED);
    JsonNode hold = adminStatus().path("hold");
    assertThat(Instant.parse(hold.path("until").asText()))
        .isEqualTo(Instant.ofEpochMilli(resetMillis));
    assertThat(hold.path("reason").asText()).contains("http 429").contains("30s");

    clock.advance(Duration.ofSeconds(29));
    staysAt(1);
    clock.advance(Duration.ofSeconds(2));
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(first) == DeliveryState.DELIVERED);
  }

  @Test
  void resumeEndsAServerHoldAndSendsAtOnceAndTheHoldIsShownUntilThen() throws Exception {
    crm.answer(Answer.status(503).header("Retry-After", "99999999"));
    start("{ initial: 1s, max_delay: 1h }"); // the cap: max_delay
    String first = post();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> stateOf(first) == DeliveryState.RETRY_SCHEDULED);
    String second = post();
    staysAt(1);

    JsonNode status = adminStatus();
    assertThat(status.path("paused").asBoolean()).isFalse();
    assertThat(Instant.parse(status.path("hold").path("until").asText()))
        .isEqualTo(clock.instant().plus(Duration.ofHours(1)));
    assertThat(status.path("hold").path("reason").asText())
        .isEqualTo("http 503 asked for 99999999s, cut to 1h");
    String listed = cli("destinations", "list");
    assertThat(listed)
        .contains("held until 2026-10-27 15:30:05Z")
        .contains("held: http 503 asked for 99999999s, cut to 1h");

    cli("destinations", "resume", "crm"); // the clock does not move
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                stateOf(first) == DeliveryState.DELIVERED
                    && stateOf(second) == DeliveryState.DELIVERED);
    assertThat(adminStatus().path("hold").isNull()).isTrue();
    assertThat(cli("destinations", "list")).contains("active").doesNotContain("held until");
  }

  @Test
  void deliveriesNeverAttemptedWhileTheHoldLastsAreDeadLetteredOnceTheirMaxAgePasses()
      throws Exception {
    crm.answer(Answer.status(503).header("Retry-After", "99999999"));
    start("{ initial: 1s, max_delay: 1m, max_age: 1h, max_server_delay: 2h }");
    String first = post();
    // its next try (after the 2h hold) would pass its max_age: dead at once, as before
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(first) == DeliveryState.DEAD);
    String second = post(); // never attempted: the destination holds everything for 2h
    clock.advance(Duration.ofMinutes(59));
    staysAt(1);
    assertThat(stateOf(second)).isEqualTo(DeliveryState.PENDING);

    clock.advance(Duration.ofMinutes(2)); // 61 min after it was received, still held
    await().atMost(Duration.ofSeconds(5)).until(() -> stateOf(second) == DeliveryState.DEAD);
    DeliveryRecord dead = delivery(second);
    assertThat(dead.errorClass()).isEqualTo("max_age");
    assertThat(dead.lastError())
        .startsWith("max_age (1h) exceeded before a first attempt")
        .contains("http 503 asked for 99999999s, cut to 2h");
    assertThat(dead.attempts()).isZero();
    assertThat(gw.gateway().store().countUnfinishedDeliveries("crm")).isZero();
    staysAt(1);
  }
}
