package dev.switchboard.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A generic HTTP receiver for destination tests (docs/connectors.md, "Generic HTTP targets"):
 * records every request and answers from a script, one scripted {@link Answer} per request, then
 * {@code 202 {"ok":true}}. An answer with a delay holds the request that long (or until {@link
 * #close}), to play a destination that hangs past the caller's timeout.
 *
 * <p>Requests are recorded on arrival, before any delay. Every method is thread-safe.
 */
public final class FakeDestination implements AutoCloseable {

  /** One received request; header names are lower-case, values in arrival order. */
  public record Request(
      String method,
      String pathAndQuery,
      Map<String, List<String>> headers,
      byte[] body,
      Instant arrivedAt) {

    /** The first value of a header, or null. */
    public String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** A scripted answer: {@code Answer.status(429).header("Retry-After", "7")}. */
  public record Answer(int status, Map<String, String> headers, String body, Duration delay) {
    public static final Answer DEFAULT =
        new Answer(202, Map.of("Content-Type", "application/json"), "{\"ok\":true}", Duration.ZERO);

    public static Answer status(int status) {
      return new Answer(status, Map.of(), "", Duration.ZERO);
    }

    public Answer header(String name, String value) {
      Map<String, String> more = new TreeMap<>(headers);
      more.put(name, value);
      return new Answer(status, more, body, delay);
    }

    public Answer body(String text) {
      return new Answer(status, headers, text, delay);
    }

    /** Holds the request this long before answering. */
    public Answer after(Duration wait) {
      return new Answer(status, headers, body, wait);
    }
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final Clock clock;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final ConcurrentLinkedQueue<Answer> script = new ConcurrentLinkedQueue<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile Answer byDefault = Answer.DEFAULT;
  private volatile java.util.function.Function<Request, String> overlapKey;
  private final Map<String, java.util.concurrent.atomic.AtomicInteger> open =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.Set<String> overlapped =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  public FakeDestination() {
    this(Clock.systemUTC());
  }

  /**
   * @param clock stamps {@link Request#arrivedAt()}
   */
  public FakeDestination(Clock clock) {
    this.clock = clock;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start the fake destination", e);
    }
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Queues answers for the next requests, in order. */
  public FakeDestination answer(Answer... answers) {
    script.addAll(List.of(answers));
    return this;
  }

  /** Drops the answers not yet given: from now on every request gets the default 202. */
  public FakeDestination heal() {
    script.clear();
    byDefault = Answer.DEFAULT;
    return this;
  }

  /** The answer once the scripted ones are used up ({@link Answer#DEFAULT} unless set). */
  public FakeDestination answerByDefault(Answer answer) {
    this.byDefault = answer;
    return this;
  }

  /**
   * Records, for each key {@code keyOf} gives a request (null: none), whether two requests of that
   * key were ever being answered at the same time; see {@link #overlappedKeys}.
   */
  public FakeDestination trackOverlap(java.util.function.Function<Request, String> keyOf) {
    this.overlapKey = keyOf;
    return this;
  }

  /** The keys that had two requests open at once (see {@link #trackOverlap}). */
  public java.util.Set<String> overlappedKeys() {
    return java.util.Set.copyOf(overlapped);
  }

  /** An absolute URL on this fake, e.g. {@code uri("/hook?sig=x")}. */
  public URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + pathAndQuery);
  }

  public List<Request> requests() {
    return List.copyOf(requests);
  }

  public List<Request> requestsWithHeader(String name, String value) {
    return requests.stream().filter(r -> value.equals(r.header(name))).toList();
  }

  /** How many requests carried each value of a header, e.g. per {@code webhook-id}. */
  public Map<String, Long> countByHeader(String name) {
    return requests.stream()
        .filter(r -> r.header(name) != null)
        .collect(Collectors.groupingBy(r -> r.header(name), TreeMap::new, Collectors.counting()));
  }

  /** Stops at once, ending held requests; their callers see the connection close. */
  @Override
  public void close() {
    closed.countDown();
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    String key = null;
    try (exchange;
        InputStream in = exchange.getRequestBody()) {
      Request request =
          new Request(
              exchange.getRequestMethod(),
              exchange.getRequestURI().getRawPath()
                  + (exchange.getRequestURI().getRawQuery() == null
                      ? ""
                      : "?" + exchange.getRequestURI().getRawQuery()),
              lowerCased(exchange.getRequestHeaders()),
              in.readAllBytes(),
              clock.instant());
      requests.add(request);
      java.util.function.Function<Request, String> keyOf = overlapKey;
      key = keyOf == null ? null : keyOf.apply(request);
      if (key != null
          && open.computeIfAbsent(key, k -> new java.util.concurrent.atomic.AtomicInteger())
                  .incrementAndGet()
              > 1) {
        overlapped.add(key);
      }
      Answer answer = script.poll();
      if (answer == null) {
        answer = byDefault;
      }
      if (!answer.delay().isZero()
          && closed.await(answer.delay().toMillis(), TimeUnit.MILLISECONDS)) {
        return; // closed while holding: drop the connection without answering
      }
      if (key != null) {
        // no longer open once the answer starts: the sender cannot know it is done before that
        open.get(key).decrementAndGet();
        key = null;
      }
      answer.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
      byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(answer.status(), body.length == 0 ? -1 : body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (key != null) {
        open.get(key).decrementAndGet();
      }
    }
  }

  private static Map<String, List<String>> lowerCased(Map<String, List<String>> headers) {
    return headers.entrySet().stream()
        .collect(
            Collectors.toUnmodifiableMap(
                e -> e.getKey().toLowerCase(Locale.ROOT),
                e -> List.copyOf(e.getValue()),
                (a, b) -> {
                  List<String> both = new ArrayList<>(a);
                  both.addAll(b);
                  return List.copyOf(both);
                }));
  }
}
