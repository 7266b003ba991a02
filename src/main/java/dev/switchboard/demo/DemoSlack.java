package dev.switchboard.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Slack incoming webhook for {@code switchboard demo} on 127.0.0.1: {@code POST} of a JSON body
 * with {@code text} answers 200 {@code ok}; a body without text 400 {@code no_text}; a wrong path
 * 404 {@code no_service}; and about 5 % of posts 429 with {@code Retry-After: 1} and Slack's JSON
 * rate-limit body, so the dashboard shows a destination told to wait.
 */
public final class DemoSlack implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String HOOK = "/services/T0DEMO000/B0DEMO000/demoWebhookSecret0000000";

  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final AtomicLong posted = new AtomicLong();
  private final int limitPercent;

  public DemoSlack() throws IOException {
    this(5);
  }

  /** With {@code limitPercent} % of posts answered 429 (0 or 100 for tests). */
  DemoSlack(int limitPercent) throws IOException {
    this.limitPercent = limitPercent;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** The webhook URL. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + HOOK;
  }

  /** Messages accepted so far. */
  public long posted() {
    return posted.get();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange;
        InputStream in = exchange.getRequestBody()) {
      byte[] body = in.readAllBytes();
      int status;
      String answer;
      String type = "text/html";
      if (!exchange.getRequestURI().getRawPath().equals(HOOK)) {
        status = 404;
        answer = "no_service";
      } else if (!exchange.getRequestMethod().equals("POST")) {
        status = 405;
        answer = "invalid_method";
      } else if (ThreadLocalRandom.current().nextInt(100) < limitPercent) {
        exchange.getResponseHeaders().add("Retry-After", "1");
        status = 429;
        answer = "{\"retry_after\":1,\"ok\":false,\"error\":\"rate_limited\"}";
        type = "application/json";
      } else if (!hasText(body)) {
        status = 400;
        answer = "no_text";
      } else {
        posted.incrementAndGet();
        status = 200;
        answer = "ok";
      }
      exchange.getResponseHeaders().add("Content-Type", type);
      byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private static boolean hasText(byte[] body) {
    try {
      JsonNode node = JSON.readTree(body);
      return node != null && node.path("text").isTextual() && !node.path("text").asText().isBlank();
    } catch (IOException e) {
      return false;
    }
  }
}
