package dev.switchboard.ingest;

import static dev.switchboard.testing.GatewayFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A scanner or a misconfigured sender cannot fill the disk through the log: refusals are logged at
 * most once per interval for each source and reason, each line counting those not logged since the
 * one before, while the metrics count every one.
 */
@Timeout(120)
class RefusalLogIT {
  static final Pattern MORE = Pattern.compile("\\((\\d+) more since the last such line\\)");

  @TempDir Path dir;

  @Test
  void twoThousandBadSignaturesWriteAHandfulOfLinesAndTheMetricsCountEveryOne() throws Exception {
    String yaml =
        """
        sources:
          calls:
            verify:
              scheme: hmac-sha256-hex
              header: X-Genesys-Signature
              secrets: ["${SECRET}"]
        """;
    Logger log = (Logger) LoggerFactory.getLogger(IngestService.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    log.addAppender(appender);
    AtomicInteger sent = new AtomicInteger();
    try (GatewayFixture gw =
        GatewayFixture.start(
            dir,
            yaml,
            Map.of("SECRET", "the-real-secret"),
            new MutableClock(Instant.parse("2026-10-27T14:30:05Z")))) {
      try (ExecutorService senders = Executors.newFixedThreadPool(8)) {
        List<Future<Integer>> answers = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
          answers.add(senders.submit(() -> badSignature(gw, sent)));
        }
        for (Future<Integer> answer : answers) {
          assertThat(answer.get(60, TimeUnit.SECONDS)).isEqualTo(401);
        }
      }
      List<String> lines = refusalLines(appender);
      assertThat(lines).as("lines for 2,000 refusals").isNotEmpty().hasSizeLessThanOrEqualTo(3);
      assertThat(gw.get("/metrics").body())
          .contains(
              "switchboard_ingest_requests_total{outcome=\"signature_rejected\",source=\"calls\"}"
                  + " 2000.0");

      // once the interval has passed, the next refusal's line says how many were not logged
      await("a line with the count of the refusals not logged")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> {
                assertThat(badSignature(gw, sent)).isEqualTo(401);
                return refusalLines(appender).stream().anyMatch(l -> MORE.matcher(l).find());
              });
      List<String> all = refusalLines(appender);
      long suppressed = 0;
      for (String line : all) {
        Matcher m = MORE.matcher(line);
        if (m.find()) {
          suppressed += Long.parseLong(m.group(1));
        }
      }
      assertThat(all.size() + suppressed)
          .as("lines written plus those they say were not: every refusal")
          .isEqualTo(sent.get());
      assertThat(all.size()).isLessThanOrEqualTo(5);
    } finally {
      log.detachAppender(appender);
    }
  }

  static int badSignature(GatewayFixture gw, AtomicInteger sent) throws Exception {
    byte[] body = utf8("{\"interactionId\":\"i-1\"}");
    sent.incrementAndGet();
    HttpResponse<String> r = gw.post("calls", body, Map.of("X-Genesys-Signature", "0".repeat(64)));
    return r.statusCode();
  }

  static List<String> refusalLines(ListAppender<ILoggingEvent> logs) {
    synchronized (logs) {
      return logs.list.stream()
          .map(ILoggingEvent::getFormattedMessage)
          .filter(m -> m.startsWith("refused request"))
          .toList();
    }
  }
}
