package dev.switchboard.observability;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.Span;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TracingTest {
  @Test
  void offBuildsNoSpans() {
    Tracing off = Tracing.off();
    assertThat(off.on()).isFalse();
    Span ingest =
        off.ingest(
            "calls", Map.of("traceparent", "00-" + "a".repeat(32) + "-" + "b".repeat(16) + "-01"));
    assertThat(ingest).isSameAs(Span.getInvalid());
    assertThat(off.step(ingest, "verify")).isSameAs(Span.getInvalid());
    assertThat(off.attempt("00-x", "e", "r", "d", "id", 1)).isSameAs(Span.getInvalid());
    assertThat(off.send(ingest)).isSameAs(Span.getInvalid());
    assertThat(Tracing.traceparent(ingest)).isNull();
    assertThat(Tracing.traceId(ingest)).isNull();
  }

  @Test
  void anUnreachableCollectorIsReportedInTheLogNotOnStderr() throws Exception {
    ch.qos.logback.classic.Logger sdk =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.opentelemetry");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    sdk.addAppender(lines);
    int closedPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    Tracing tracing =
        Tracing.start(
            new dev.switchboard.config.TelemetryConfig(
                URI.create("http://127.0.0.1:" + closedPort),
                "t",
                1.0,
                Map.of(),
                java.time.Duration.ofMillis(50)));
    try {
      tracing.ingest("calls", Map.of()).end();
      tracing.flush(5_000);
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(10))
          .until(
              () -> {
                synchronized (lines) {
                  return !lines.list.isEmpty();
                }
              });
    } finally {
      tracing.close();
      sdk.detachAppender(lines);
    }
  }

  @Test
  void theTraceIdOfATraceparent() {
    String id = "4bf92f3577b34da6a3ce929d0e0e4736";
    assertThat(Tracing.traceIdOf("00-" + id + "-00f067aa0ba902b7-01")).isEqualTo(id);
    assertThat(Tracing.traceIdOf(null)).isNull();
    assertThat(Tracing.traceIdOf("garbage")).isNull();
    assertThat(Tracing.traceIdOf("00-" + "0".repeat(32) + "-00f067aa0ba902b7-01")).isNull();
    assertThat(Tracing.traceIdOf("00-" + id.toUpperCase() + "-00f067aa0ba902b7-01")).isNull();
  }

  @Test
  void spansGoToTheTracesPathUnderTheEndpoint() {
    assertThat(Tracing.tracesUrl(URI.create("http://127.0.0.1:4318")))
        .isEqualTo("http://127.0.0.1:4318/v1/traces");
    assertThat(Tracing.tracesUrl(URI.create("https://otel.example.com/")))
        .isEqualTo("https://otel.example.com/v1/traces");
    assertThat(Tracing.tracesUrl(URI.create("https://otel.example.com/v1/traces")))
        .isEqualTo("https://otel.example.com/v1/traces");
  }
}
