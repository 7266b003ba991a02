package dev.switchboard.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Genesys Cloud login and Platform API hosts in one local server, as docs/connectors.md
 * ("Genesys Cloud") describes them: {@code POST /oauth/token} (client credentials with basic auth,
 * form {@code grant_type=client_credentials}; {@code {access_token, token_type: "bearer",
 * expires_in}}; 400 {@code invalid_client} for a wrong id or secret), and {@code GET
 * /api/v2/analytics/conversations/{id}/details} answering the sample analytics record for known
 * conversations, 404 for others, 401 for a missing, unknown or revoked token, and scripted 429s
 * with {@code Retry-After} and Genesys's normalised body.
 */
public final class FakeGenesys implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern DETAILS =
      Pattern.compile("/api/v2/analytics/conversations/([0-9a-fA-F-]+)/details");
  private static final Path SAMPLES = GatewayFixture.GENESYS_SAMPLES;

  /**
   * One API call (token requests excluded), for assertions.
   *
   * @param path decoded
   * @param rawPath as sent, percent-encoding included
   * @param rawQuery as sent, or null when the request had none
   */
  public record Call(String path, String token, String rawPath, String rawQuery) {}

  private final HttpServer server;
  private final String clientId;
  private final String clientSecret;
  private final Set<String> tokens = ConcurrentHashMap.newKeySet();
  private final Set<String> conversations = ConcurrentHashMap.newKeySet();
  private final Deque<Integer> throttles = new ArrayDeque<>();
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final AtomicInteger tokensIssued = new AtomicInteger();
  private final String details;
  private final String tooMany;

  public FakeGenesys(String clientId, String clientSecret) {
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    try {
      this.details = Files.readString(SAMPLES.resolve("analytics-conversation-details.json"));
      this.tooMany = Files.readString(SAMPLES.resolve("platform-api-429.json"));
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", this::handle);
    server.start();
  }

  public URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  /** The conversation exists: its analytics details are found. */
  public void knows(String conversationId) {
    conversations.add(conversationId);
  }

  /** The next API call is answered 429 with {@code Retry-After: seconds}. */
  public synchronized void throttleNext(int seconds) {
    throttles.add(seconds);
  }

  /** Every token issued so far stops working (expiry or revocation). */
  public void revokeTokens() {
    tokens.clear();
  }

  public int tokensIssued() {
    return tokensIssued.get();
  }

  public List<Call> calls() {
    return List.copyOf(calls);
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private void handle(HttpExchange x) throws IOException {
    try (x) {
      byte[] body = x.getRequestBody().readAllBytes();
      String path = x.getRequestURI().getPath();
      if (path.equals("/oauth/token") && x.getRequestMethod().equals("POST")) {
        token(x, new String(body, StandardCharsets.UTF_8));
        return;
      }
      String auth = x.getRequestHeaders().getFirst("Authorization");
      String token = auth != null && auth.startsWith("Bearer ") ? auth.substring(7) : null;
      URI uri = x.getRequestURI();
      calls.add(new Call(path, token, uri.getRawPath(), uri.getRawQuery()));
      Integer throttle = nextThrottle();
      if (throttle != null) {
        x.getResponseHeaders().add("Retry-After", Integer.toString(throttle));
        x.getResponseHeaders().add("ININ-Correlation-Id", "c0ffee00-0000-4000-8000-000000000000");
        send(x, 429, tooMany);
        return;
      }
      if (token == null || !tokens.contains(token)) {
        send(x, 401, error(401, "bad.credentials", "Invalid login credentials."));
        return;
      }
      Matcher m = DETAILS.matcher(path);
      if (!x.getRequestMethod().equals("GET") || !m.matches()) {
        send(x, 404, error(404, "not.found", "The requested resource was not found."));
        return;
      }
      if (!conversations.contains(m.group(1))) {
        send(x, 404, error(404, "not.found", "Unable to find conversation " + m.group(1)));
        return;
      }
      ObjectNode record = (ObjectNode) JSON.readTree(details);
      record.put("conversationId", m.group(1));
      send(x, 200, JSON.writeValueAsString(record));
    }
  }

  private void token(HttpExchange x, String form) throws IOException {
    String expected =
        "Basic "
            + Base64.getEncoder()
                .encodeToString((clientId + ":" + clientSecret).getBytes(StandardCharsets.UTF_8));
    if (!form.contains("grant_type=client_credentials")) {
      send(
          x,
          400,
          "{\"error\":\"unsupported_grant_type\",\"description\":\"grant type is not supported\"}");
    } else if (!expected.equals(x.getRequestHeaders().getFirst("Authorization"))) {
      send(
          x,
          400,
          "{\"error\":\"invalid_client\",\"description\":\"client not found: bad client id or secret\"}");
    } else {
      String token = "fake-" + tokensIssued.incrementAndGet() + "-" + System.nanoTime();
      tokens.add(token);
      send(
          x,
          200,
          "{\"access_token\":\"" + token + "\",\"token_type\":\"bearer\",\"expires_in\":86399}");
    }
  }

  private synchronized Integer nextThrottle() {
    return throttles.poll();
  }

  private static String error(int status, String code, String message) {
    return "{\"message\":\""
        + message
        + "\",\"code\":\""
        + code
        + "\",\"status\":"
        + status
        + ",\"contextId\":\"0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a\",\"details\":[],\"errors\":[]}";
  }

  private static void send(HttpExchange x, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    x.getResponseHeaders().add("Content-Type", "application/json");
    x.sendResponseHeaders(status, bytes.length);
    x.getResponseBody().write(bytes);
  }
}
