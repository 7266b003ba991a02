package dev.switchboard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.switchboard.config.VerifyConfig;
import dev.switchboard.emulator.EventGenerator.Mix;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The sender against a scripted receiver on 127.0.0.1: retries, outcomes, signing. */
@Timeout(30)
class EmulatorTest {
  HttpServer server;
  final Map<String, AtomicInteger> attemptsPerBody = new ConcurrentHashMap<>();
  final List<String> signatures = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Answers with {@code script(attemptNumberOfThisBody)}; attempt numbers start at 1. */
  URI serve(IntUnaryOperator script) throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/hooks/calls",
        exchange -> {
          byte[] body = exchange.getRequestBody().readAllBytes();
          String sig = exchange.getRequestHeaders().getFirst("X-Signature");
          if (sig != null) {
            signatures.add(sig);
          }
          int n =
              attemptsPerBody
                  .computeIfAbsent(new String(body), k -> new AtomicInteger())
                  .incrementAndGet();
          exchange.sendResponseHeaders(script.applyAsInt(n), -1);
          exchange.close();
        });
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hooks/calls");
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  static Emulator.Settings settings(URI target, long count, RetrySchedule retry) {
    return new Emulator.Settings(
        target,
        200,
        count,
        null,
        0,
        Duration.ofSeconds(5),
        4,
        Duration.ofSeconds(2),
        retry,
        Duration.ofSeconds(10),
        202,
        200);
  }

  static EventGenerator plain() {
    return new EventGenerator(PayloadKind.DISPOSITION, Mix.PLAIN, 7, Instant.now());
  }

  @Test
  void retriesServerErrorsAndRateLimitsThenCountsTheAcceptance() throws Exception {
    URI target = serve(n -> n == 1 ? 503 : n == 2 ? 429 : 202);
    Stats.Snapshot s =
        new Emulator(
                settings(target, 20, new RetrySchedule(3, Duration.ofMillis(20))),
                plain(),
                Signer.forSource(null))
            .run(null);
    assertThat(s.sent()).isEqualTo(20);
    assertThat(s.accepted()).isEqualTo(20);
    assertThat(s.retried()).isEqualTo(40);
    assertThat(s.rejected()).isZero();
    assertThat(attemptsPerBody.values()).allMatch(a -> a.get() == 3);
  }

  @Test
  void givesUpAfterTheScheduleAndNeverRetriesAPermanentRejection() throws Exception {
    URI target = serve(n -> 500);
    Stats.Snapshot s =
        new Emulator(
                settings(target, 5, new RetrySchedule(2, Duration.ofMillis(10))),
                plain(),
                Signer.forSource(null))
            .run(null);
    assertThat(s.failed()).isEqualTo(5);
    assertThat(s.retried()).isEqualTo(10);
    assertThat(attemptsPerBody.values()).allMatch(a -> a.get() == 3);

    stop();
    attemptsPerBody.clear();
    URI rejecting = serve(n -> 401);
    Stats.Snapshot r =
        new Emulator(
                settings(rejecting, 5, RetrySchedule.OPEN_MESSAGING),
                plain(),
                Signer.forSource(null))
            .run(null);
    assertThat(r.rejected()).isEqualTo(5);
    assertThat(r.retried()).isZero();
    assertThat(attemptsPerBody.values()).allMatch(a -> a.get() == 1);
  }

  @Test
  void duplicatesAnsweredWith200AreCountedAsDuplicatesAndBodiesAreSigned() throws Exception {
    URI target = serve(n -> 200);
    Signer signer =
        Signer.forSource(
            new VerifyConfig(
                "hmac-sha256-hex",
                null,
                "X-Signature",
                null,
                List.of("s3cret"),
                VerifyConfig.DEFAULT_TOLERANCE));
    Stats.Snapshot s =
        new Emulator(settings(target, 10, RetrySchedule.NONE), plain(), signer).run(null);
    assertThat(s.duplicate()).isEqualTo(10);
    assertThat(signatures).hasSize(10).allMatch(v -> v.matches("(sha256=)?[0-9a-f]{64}"));
    assertThat(s.p50Millis()).isGreaterThan(0);
    assertThat(s.p99Millis()).isGreaterThanOrEqualTo(s.p50Millis());
  }

  @Test
  void aConstantRateSpreadsRequestsOverTheDuration() throws Exception {
    URI target = serve(n -> 202);
    Emulator.Settings rate =
        new Emulator.Settings(
            target,
            20,
            0,
            Duration.ofMillis(1000),
            5,
            Duration.ofMillis(400),
            4,
            Duration.ofSeconds(2),
            RetrySchedule.NONE,
            Duration.ofSeconds(5),
            202,
            200);
    long t0 = System.nanoTime();
    Stats.Snapshot s = new Emulator(rate, plain(), Signer.forSource(null)).run(null);
    long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(elapsedMs).isGreaterThanOrEqualTo(950);
    // 20/s for 1 s, plus two bursts of 5 (at 400 ms and 800 ms)
    assertThat(s.sent()).isBetween(27L, 31L);
    assertThat(s.accepted()).isEqualTo(s.sent());
  }
}
