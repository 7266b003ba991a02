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
