package dev.switchboard.observability;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;

/**
 * A collector's OTLP/HTTP endpoint on 127.0.0.1: decodes each {@code POST /v1/traces} (protobuf)
 * and keeps its spans. Thread-safe.
 */
final class OtlpReceiver implements AutoCloseable {
  /** One received span, ids in lower-case hex, attribute values as text. */
  record ReceivedSpan(
      String name,
      String traceId,
      String spanId,
      String parentSpanId,
      String serviceName,
      Map<String, String> attributes) {
    String attribute(String key) {
      return attributes.get(key);
    }
  }

  private final HttpServer server;
  private final List<ReceivedSpan> spans = new ArrayList<>();
  private final AtomicInteger requests = new AtomicInteger();

  OtlpReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/v1/traces",
        exchange -> {
          requests.incrementAndGet();
          try (InputStream in = exchange.getRequestBody()) {
            boolean gzip = "gzip".equals(exchange.getRequestHeaders().getFirst("Content-Encoding"));
            byte[] body = (gzip ? new GZIPInputStream(in) : in).readAllBytes();
            keep(ExportTraceServiceRequest.parseFrom(body));
            exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, -1);
          } catch (IOException | RuntimeException e) {
            exchange.sendResponseHeaders(400, -1);
          } finally {
            exchange.close();
          }
        });
    server.start();
  }

  /** The base URL, as {@code telemetry.otlp_endpoint} takes it. */
  URI endpoint() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  int requests() {
    return requests.get();
  }

  synchronized List<ReceivedSpan> spans() {
    return List.copyOf(spans);
  }

  private synchronized void keep(ExportTraceServiceRequest request) {
    HexFormat hex = HexFormat.of();
    for (ResourceSpans resource : request.getResourceSpansList()) {
      String service = null;
      for (KeyValue kv : resource.getResource().getAttributesList()) {
        if (kv.getKey().equals("service.name")) {
          service = text(kv.getValue());
        }
      }
      for (ScopeSpans scope : resource.getScopeSpansList()) {
        for (io.opentelemetry.proto.trace.v1.Span span : scope.getSpansList()) {
          Map<String, String> attributes = new LinkedHashMap<>();
          span.getAttributesList().forEach(kv -> attributes.put(kv.getKey(), text(kv.getValue())));
          spans.add(
              new ReceivedSpan(
                  span.getName(),
                  hex.formatHex(span.getTraceId().toByteArray()),
                  hex.formatHex(span.getSpanId().toByteArray()),
                  span.getParentSpanId().isEmpty()
                      ? null
                      : hex.formatHex(span.getParentSpanId().toByteArray()),
                  service,
                  attributes));
        }
      }
    }
  }

  private static String text(AnyValue value) {
    return switch (value.getValueCase()) {
      case STRING_VALUE -> value.getStringValue();
      case INT_VALUE -> Long.toString(value.getIntValue());
      case BOOL_VALUE -> Boolean.toString(value.getBoolValue());
      case DOUBLE_VALUE -> Double.toString(value.getDoubleValue());
      default -> value.toString();
    };
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
