package dev.switchboard.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Slack's incoming webhooks on 127.0.0.1, as docs/connectors.md ("Slack") describes them: {@code
 * POST /services/T…/B…/<secret>}, success is 200 with the plain-text body {@code ok}, errors are a
 * status with a plain-text code, a per-hook token bucket (1/s refill, burst 25 by default) answers
 * 429 with {@code Retry-After}, {@code text} over 40,000 characters is truncated, and every
 * accepted message is recorded (Slack does not de-duplicate: a message posted twice shows up
 * twice). The token bucket runs on the given clock, so tests move time by hand.
 *
 * <p>Not modelled: the legacy Web API ({@code chat.postMessage}), which the connector does not use.
 */
public final class FakeSlack implements AutoCloseable {
  static final int MAX_TEXT_CHARS = 40_000;
  static final int MAX_BLOCKS = 50;
  static final int MAX_SECTION_TEXT_CHARS = 3_000;
  static final int MAX_ATTACHMENTS = 100;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One message Slack accepted and posted, with the text as stored (after truncation). */
  public record Message(String hook, String rawBody, String storedText, Instant postedAt) {}

  /** One request as received, accepted or not. */
  public record Request(String path, String contentType, String body, int status, String answer) {}

  /** An incoming webhook: its URL, its own rate bucket and its scripted behaviour. */
  public final class Hook {
    private final String path;
    private final ConcurrentLinkedQueue<String[]> scripted = new ConcurrentLinkedQueue<>();
    private volatile boolean disabled;
    private volatile String okBody = "ok";
    private volatile int burst = 25;
    private volatile double tokens = 25;
    private volatile Instant refilledAt;
    private volatile Duration latency = Duration.ZERO;

    private Hook(String path) {
      this.path = path;
      this.refilledAt = clock.instant();
    }

    /** The webhook URL: the credential the connector must never log. */
    public URI uri() {
      return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    /**
     * The next request gets this error instead of being posted, e.g. {@code 404,
     * "channel_not_found"}, {@code 500, "rollup_error"}.
     */
    public Hook failNext(int status, String code) {
      scripted.add(error(status, code));
      return this;
    }

    /**
     * Slack turned the hook off (runaway posting, app removed): 404 {@code no_service} for good.
     */
    public Hook disable() {
      disabled = true;
      return this;
    }

    /** Answers 200 with this body instead of {@code ok} (seen: 200 {@code no_service}). */
    public Hook answerOkWith(String body) {
      okBody = body;
      return this;
    }

    /** The bucket's size (how many messages may go at once before 429); refill stays 1/s. */
    public synchronized Hook burst(int size) {
      burst = size;
      tokens = size;
      refilledAt = clock.instant();
      return this;
    }

    /** Empties the bucket, as if the hook had just posted its whole burst; it refills at 1/s. */
    public synchronized Hook spend() {
      tokens = 0;
      refilledAt = clock.instant();
      return this;
    }

    /** Holds each answer this long after posting, to play a slow Slack past a caller's timeout. */
    public Hook latency(Duration wait) {
      latency = wait;
      return this;
    }

    public List<Message> messages() {
      return FakeSlack.this.messages.stream().filter(m -> m.hook().equals(path)).toList();
    }

    /** Takes a token, or says how many whole seconds until one is there. */
    private synchronized long take() {
      Instant now = clock.instant();
      double elapsed = Duration.between(refilledAt, now).toNanos() / 1e9;
      if (elapsed > 0) {
        tokens = Math.min(burst, tokens + elapsed);
        refilledAt = now;
      }
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return Math.max(1, (long) Math.ceil(1 - tokens));
    }
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final Clock clock;
  private final Map<String, Hook> hooks = new ConcurrentHashMap<>();
  private final List<Message> messages = new CopyOnWriteArrayList<>();
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger hookNumber = new AtomicInteger();
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile String missingTextCode = "no_text";

  public FakeSlack(Clock clock) {
    this.clock = clock;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the fake Slack", e);
    }
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** A new incoming webhook with a random-looking secret. */
  public Hook hook() {
    int n = hookNumber.incrementAndGet();
    String path = "/services/T0000TEAM/B000%04d/XsecretX%04dhookTokenValue".formatted(n, n);
    Hook hook = new Hook(path);
    hooks.put(path, hook);
    return hook;
  }

  /** Newer hooks answer {@code missing_text_or_fallback_or_attachments} instead of no_text. */
  public FakeSlack missingTextCode(String code) {
    missingTextCode = code;
    return this;
  }

  public List<Message> messages() {
    return List.copyOf(messages);
  }

  public List<Request> requests() {
    return List.copyOf(requests);
  }

  @Override
  public void close() {
    closed.countDown();
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange;
        InputStream in = exchange.getRequestBody()) {
      String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      String path = exchange.getRequestURI().getRawPath();
      String type = exchange.getRequestHeaders().getFirst("Content-Type");
      Hook hook = hooks.get(path);
      String[] answer = answer(exchange, hook, type, body);
      int status = Integer.parseInt(answer[0]);
      requests.add(new Request(path, type, body, status, answer[1]));
      if (status == 200
          && !hook.latency.isZero()
          && closed.await(hook.latency.toMillis(), TimeUnit.MILLISECONDS)) {
        return;
      }
      byte[] bytes = answer[1].getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", answer[2]);
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** {status, body, content type}; posts the message when it is accepted. */
  private String[] answer(HttpExchange exchange, Hook hook, String type, String body) {
    if (!exchange.getRequestMethod().equals("POST")) {
      return error(405, "invalid_method"); // assumed; the connector only POSTs
    }
    if (hook == null || hook.disabled) {
      return error(404, "no_service");
    }
    long wait = hook.take();
    if (wait > 0) {
      exchange.getResponseHeaders().add("Retry-After", Long.toString(wait));
      return new String[] {
        "429",
        "{\"retry_after\":" + wait + ",\"ok\":false,\"error\":\"rate_limited\"}",
        "application/json"
      };
    }
    String[] scripted = hook.scripted.poll();
    if (scripted != null) {
      return scripted;
    }
    JsonNode message = parse(type, body);
    if (!(message instanceof ObjectNode object)) {
      return error(400, "invalid_payload");
    }
    if (!object.hasNonNull("text")
        && !object.hasNonNull("blocks")
        && !object.hasNonNull("attachments")) {
      return error(400, missingTextCode);
    }
    String invalid = invalid(object);
    if (invalid != null) {
      return error(400, invalid);
    }
    String text = object.path("text").asText("");
    if (text.length() > MAX_TEXT_CHARS) {
      text = text.substring(0, MAX_TEXT_CHARS); // Slack truncates, it does not refuse
    }
    messages.add(new Message(hook.path, body, text, clock.instant()));
    return new String[] {"200", hook.okBody, "text/html"};
  }

  private static JsonNode parse(String type, String body) {
    String mediaType = type == null ? "" : type.split(";")[0].trim().toLowerCase(Locale.ROOT);
    String json;
    if (mediaType.equals("application/json")) {
      json = body;
    } else if (mediaType.equals("application/x-www-form-urlencoded")
        && body.startsWith("payload=")) {
      json = URLDecoder.decode(body.substring("payload=".length()), StandardCharsets.UTF_8);
    } else {
      return null;
    }
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      return null;
    }
  }

  /** Block Kit and attachment limits: the error code, or null when the message is fine. */
  private static String invalid(ObjectNode message) {
    JsonNode blocks = message.get("blocks");
    if (blocks != null && !blocks.isNull()) {
      if (!blocks.isArray() || blocks.size() > MAX_BLOCKS) {
        return "invalid_blocks";
      }
      for (JsonNode block : blocks) {
        if (!block.path("type").isTextual()) {
          return "invalid_blocks_format";
        }
        if (block.path("type").asText().equals("section")
            && block.path("text").path("text").asText("").length() > MAX_SECTION_TEXT_CHARS) {
          return "invalid_blocks";
        }
      }
    }
    JsonNode attachments = message.get("attachments");
    if (attachments != null && attachments.isArray() && attachments.size() > MAX_ATTACHMENTS) {
      return "too_many_attachments";
    }
    return null;
  }

  private static String[] error(int status, String code) {
    return new String[] {Integer.toString(status), code, "text/html"};
  }
}
