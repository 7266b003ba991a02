package dev.switchboard.emulator;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;

/**
 * Sends a generated event stream to a gateway source like Genesys does: signed, at a constant rate
 * with optional bursts, each request retried on timeouts, network errors, 408, 429 and 5xx per a
 * {@link RetrySchedule}; outcomes are counted by the gateway's answer.
 */
public final class Emulator {

  /**
   * @param target the source's URL, {@code .../hooks/NAME}
   * @param ratePerSecond requests started per second (constant rate)
   * @param count stop after this many requests, or 0 for no count limit
   * @param duration stop after this long, or null for no time limit (one of count/duration is set)
   * @param burst extra requests sent at once every {@code burstEvery}, or 0
   * @param connections requests in flight at most
   * @param timeout per-attempt deadline
   * @param drain how long to wait at the end for requests in flight and pending retries
   * @param acceptedStatus the source's status for a new event
   * @param duplicateStatus the source's status for a duplicate
   */
  public record Settings(
      URI target,
      double ratePerSecond,
      long count,
      Duration duration,
      int burst,
      Duration burstEvery,
      int connections,
      Duration timeout,
      RetrySchedule retry,
      Duration drain,
      int acceptedStatus,
      int duplicateStatus) {
    public Settings {
      if (ratePerSecond <= 0 || connections <= 0) {
        throw new IllegalArgumentException("rate and connections must be positive");
      }
      if (count <= 0 && duration == null) {
        throw new IllegalArgumentException("give a count or a duration");
      }
    }
  }

  private final Settings settings;
  private final EventGenerator generator;
  private final Signer signer;
  private final Stats stats = new Stats();
  private final AtomicLong inFlight = new AtomicLong();
  private final SSLContext ssl;

  public Emulator(Settings settings, EventGenerator generator, Signer signer) {
    this(settings, generator, signer, null);
  }

  /** As above, trusting an https gateway's certificate per {@code ssl} (null: the system CAs). */
  public Emulator(Settings settings, EventGenerator generator, Signer signer, SSLContext ssl) {
    this.settings = settings;
    this.generator = generator;
    this.signer = signer;
    this.ssl = ssl;
  }

  public Stats stats() {
    return stats;
  }

  /**
   * Runs to the end (count or duration reached, then in-flight requests and retries drained or the
   * drain deadline passed), printing a progress line to {@code progress} every second when it is
   * not null.
   */
  public Stats.Snapshot run(PrintStream progress) throws InterruptedException {
    Semaphore slots = new Semaphore(settings.connections());
    ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(settings.timeout());
    if (ssl != null) {
      builder.sslContext(ssl);
    }
    HttpClient client = builder.build();
    long startNanos = System.nanoTime();
    if (progress != null) {
      timer.scheduleAtFixedRate(
          () -> progress.print("\r" + stats.snapshot().line() + "  in flight " + inFlight.get()),
          1,
          1,
          TimeUnit.SECONDS);
    }
    try {
      long periodNanos = (long) (1e9 / settings.ratePerSecond());
      long next = startNanos;
      long nextBurst =
          settings.burst() > 0 ? startNanos + settings.burstEvery().toNanos() : Long.MAX_VALUE;
      long deadline =
          settings.duration() == null ? Long.MAX_VALUE : startNanos + settings.duration().toNanos();
      long started = 0;
      while (!done(started) && System.nanoTime() < deadline) {
        long now = System.nanoTime();
        if (now >= nextBurst) {
          for (int i = 0; i < settings.burst() && !done(started); i++, started++) {
            launch(client, workers, timer, slots);
          }
          nextBurst += settings.burstEvery().toNanos();
          continue;
        }
        long wait = Math.min(next, nextBurst) - now;
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(Math.min(wait, deadline - now));
          continue;
        }
        launch(client, workers, timer, slots);
        started++;
        next += periodNanos;
      }
      long drainUntil = System.nanoTime() + settings.drain().toNanos();
      while (inFlight.get() > 0 && System.nanoTime() < drainUntil) {
        TimeUnit.MILLISECONDS.sleep(10);
      }
    } finally {
      timer.shutdownNow();
      workers.shutdownNow();
      client.shutdownNow();
      if (progress != null) {
        progress.println("\r" + stats.snapshot().line());
      }
    }
    return stats.snapshot();
  }

  private boolean done(long started) {
    return settings.count() > 0 && started >= settings.count();
  }

  private void launch(
      HttpClient client, ExecutorService workers, ScheduledExecutorService timer, Semaphore slots)
      throws InterruptedException {
    EventGenerator.Emitted e = generator.next();
    String messageId = Signer.newMessageId();
    stats.sent.increment();
    inFlight.incrementAndGet();
    slots.acquire();
    workers.execute(() -> attempt(client, workers, timer, slots, e.body(), messageId, 0));
  }

  /** One attempt; the caller holds a slot, which this releases. */
  private void attempt(
      HttpClient client,
      ExecutorService workers,
      ScheduledExecutorService timer,
      Semaphore slots,
      byte[] body,
      String messageId,
      int retry) {
    int status;
    try {
      status = post(client, body, messageId);
    } catch (IOException e) {
      status = -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      slots.release();
      inFlight.decrementAndGet();
      return;
    }
    slots.release();
    boolean again = status < 0 || RetrySchedule.retryable(status);
    if (again && retry < settings.retry().retries()) {
      stats.retried.increment();
      timer.schedule(
          () ->
              workers.execute(
                  () -> {
                    try {
                      slots.acquire();
                    } catch (InterruptedException ie) {
                      inFlight.decrementAndGet();
                      return;
                    }
                    attempt(client, workers, timer, slots, body, messageId, retry + 1);
                  }),
          settings.retry().delay().toNanos(),
          TimeUnit.NANOSECONDS);
      return;
    }
    if (status == settings.acceptedStatus()) {
      stats.accepted.increment();
    } else if (status == settings.duplicateStatus()) {
      stats.duplicate.increment();
    } else if (status >= 200 && status < 300) {
      stats.otherSuccess.increment();
    } else if (again) {
      stats.failed.increment();
    } else {
      stats.rejected.increment();
    }
    inFlight.decrementAndGet();
  }

  private int post(HttpClient client, byte[] body, String messageId)
      throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(settings.target())
            .timeout(settings.timeout())
            .header("Content-Type", "application/json")
            .header("User-Agent", "switchboard-emulate")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    Map<String, String> headers = signer.headers(body, Instant.now(), messageId);
    headers.forEach(request::header);
    long t0 = System.nanoTime();
    HttpResponse<Void> response =
        client.send(request.build(), HttpResponse.BodyHandlers.discarding());
    stats.latencyMicros((System.nanoTime() - t0) / 1000);
    return response.statusCode();
  }
}
