package dev.switchboard.faults;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.faults.InvariantChecker.Ack;
import dev.switchboard.testing.Hmac;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * Steady load: signed events to one or more gateways at a fixed rate, each event sent once (a
 * failed send is simply not acknowledged, so nothing is promised for it). Logs every 2xx.
 */
final class LoadClient implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  private final String prefix;
  private final String source;
  private final String secret;
  private final List<IntSupplier> ports;
  private final int perSecond;
  private final int padBytes;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor();
  private final Semaphore inFlight = new Semaphore(32);
  private final Map<String, Ack> acks = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> statuses = new ConcurrentHashMap<>();
  private final AtomicLong sent = new AtomicLong();
  private final java.util.Set<Long> unacknowledged = ConcurrentHashMap.newKeySet();
  private final Thread pacer;
  private volatile boolean running = true;
  private volatile int retried;

  LoadClient(
      String prefix,
      String source,
      String secret,
      List<IntSupplier> ports,
      int perSecond,
      int padBytes) {
    this.prefix = prefix;
    this.source = source;
    this.secret = secret;
    this.ports = ports;
    this.perSecond = perSecond;
    this.padBytes = padBytes;
    this.pacer = Thread.ofPlatform().name("load-" + prefix).start(this::pace);
  }

  private void pace() {
    long start = System.nanoTime();
    long n = 0;
    while (running) {
      long due = start + n * 1_000_000_000L / perSecond;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(wait); // pacing, not synchronisation
        continue;
      }
      if (!inFlight.tryAcquire()) {
        n++; // the gateway is slower than the load: skip this slot rather than queue
        statuses
            .computeIfAbsent("skipped (32 in flight)", k -> new AtomicInteger())
            .incrementAndGet();
        continue;
      }
      long number = n++;
      senders.submit(
          () -> {
            try {
              send(number, "");
            } finally {
              inFlight.release();
            }
          });
    }
  }

  /** Sends event {@code number}; {@code label} prefixes the status counted ("" for the load). */
  private void send(long number, String label) {
    String key = prefix + "-" + number;
    int port = ports.get((int) (number % ports.size())).getAsInt();
    byte[] body =
        ("{\"interactionId\":\"" + key + "\",\"pad\":\"" + "x".repeat(padBytes) + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hooks/" + source))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .header("X-Genesys-Signature", Hmac.sha256Hex(secret, body))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    if (label.isEmpty()) {
      sent.incrementAndGet();
    }
    String outcome;
    boolean ok = false;
    try {
      HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
      outcome = Integer.toString(r.statusCode());
      if (r.statusCode() / 100 == 2) {
        ok = true;
        acks.put(
            key, new Ack(key, JSON.readTree(r.body()).path("eventId").asText(), r.statusCode()));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      outcome = "interrupted";
    } catch (Exception e) {
      outcome = "no answer (" + e.getClass().getSimpleName() + ")";
    }
    if (!ok && label.isEmpty()) {
      unacknowledged.add(number);
    }
    statuses.computeIfAbsent(label + outcome, k -> new AtomicInteger()).incrementAndGet();
  }

  /**
   * What an at-least-once sender does after the fault: sends every event that got no 2xx once more
   * (same body, same idempotency key). An event stored although its answer was lost or a 503 must
   * now be answered as a duplicate of the same event. Returns how many were sent again.
   */
  int retryUnacknowledged() throws InterruptedException {
    List<Long> again = List.copyOf(unacknowledged);
    retried = again.size();
    try (ExecutorService retries = Executors.newFixedThreadPool(16)) {
      for (long n : again) {
        retries.submit(() -> send(n, "retry: "));
      }
      retries.shutdown();
      retries.awaitTermination(60, TimeUnit.SECONDS);
    }
    return again.size();
  }

  Map<String, Ack> acks() {
    return Map.copyOf(acks);
  }

  int retried() {
    return retried;
  }

  int acked() {
    return acks.size();
  }

  long sent() {
    return sent.get();
  }

  int count(String status) {
    AtomicInteger n = statuses.get(status);
    return n == null ? 0 : n.get();
  }

  Map<String, Integer> statuses() {
    Map<String, Integer> out = new TreeMap<>();
    statuses.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  /** Stops sending and waits (bounded) for the requests under way. */
  void stop() throws InterruptedException {
    running = false;
    pacer.join(5_000);
    senders.shutdown();
    senders.awaitTermination(15, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    stop();
    senders.shutdownNow();
    client.close();
  }
}
