package dev.switchboard.faults;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A destination that misbehaves on a schedule: a plain HTTP/1.1 server on 127.0.0.1 (raw sockets,
 * so it can reset a connection) whose answer depends on the current {@link Mode}. It records every
 * request: its {@code Idempotency-Key}, when it arrived, when and how it was answered.
 *
 * <ul>
 *   <li>{@code OK}: 200.
 *   <li>{@code TIMEOUT}: holds the request for {@code holdFor} (past the gateway's timeout), then
 *       closes the connection without an answer.
 *   <li>{@code ERROR}: 503.
 *   <li>{@code THROTTLE}: 429 with {@code Retry-After: retryAfterSeconds}.
 *   <li>{@code RESET}: reads the request, then resets the connection (SO_LINGER 0).
 * </ul>
 */
public final class FlappingDestination implements AutoCloseable {
  public enum Mode {
    OK,
    TIMEOUT,
    ERROR,
    THROTTLE,
    RESET
  }

  /** A phase of the schedule. */
  public record Phase(Mode mode, Duration length) {}

  /**
   * One request as the destination saw it. {@code status}: the HTTP status answered, or -1 for a
   * held request (timeout), -2 for a reset.
   */
  public record Receipt(
      long seq,
      String key,
      String eventKey,
      String path,
      long arrivedAt,
      long answeredAt,
      Mode mode,
      int status,
      int retryAfterSeconds) {
    String line() {
      return String.join(
          "\t",
          Long.toString(seq),
          key == null ? "-" : key,
          eventKey == null ? "-" : eventKey,
          path,
          Long.toString(arrivedAt),
          Long.toString(answeredAt),
          mode.name(),
          Integer.toString(status),
          Integer.toString(retryAfterSeconds));
    }

    static Receipt parse(String line) {
      String[] f = line.split("\t");
      return new Receipt(
          Long.parseLong(f[0]),
          f[1].equals("-") ? null : f[1],
          f[2].equals("-") ? null : f[2],
          f[3],
          Long.parseLong(f[4]),
          Long.parseLong(f[5]),
          Mode.valueOf(f[6]),
          Integer.parseInt(f[7]),
          Integer.parseInt(f[8]));
    }
  }

  /** The event a request carries: the {@code interactionId} the load client sent. */
  static final java.util.regex.Pattern EVENT_KEY =
      java.util.regex.Pattern.compile("\"interactionId\":\"([^\"]+)\"");

  private final ServerSocket server;
  private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
  private final List<Receipt> receipts = new ArrayList<>();
  private final AtomicLong seq = new AtomicLong();
  private final List<Socket> open = new ArrayList<>();
  private volatile List<Phase> schedule = List.of(new Phase(Mode.OK, Duration.ofDays(1)));
  private volatile long scheduleStart = System.currentTimeMillis();
  private volatile Duration holdFor = Duration.ofSeconds(3);
  private volatile int retryAfterSeconds = 3;
  private volatile boolean closed;

  public FlappingDestination() throws IOException {
    this(0);
  }

  public FlappingDestination(int port) throws IOException {
    server = new ServerSocket(port, 200, InetAddress.getLoopbackAddress());
    threads.submit(this::acceptLoop);
  }

  public int port() {
    return server.getLocalPort();
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  /** Answers by {@code phases}, repeated, from now on. */
  public FlappingDestination schedule(List<Phase> phases) {
    this.schedule = List.copyOf(phases);
    this.scheduleStart = System.currentTimeMillis();
    return this;
  }

  public FlappingDestination always(Mode mode) {
    return schedule(List.of(new Phase(mode, Duration.ofDays(1))));
  }

  public FlappingDestination holdFor(Duration hold) {
    this.holdFor = hold;
    return this;
  }

  public FlappingDestination retryAfterSeconds(int seconds) {
    this.retryAfterSeconds = seconds;
    return this;
  }

  public Mode modeAt(long millis) {
    List<Phase> phases = schedule;
    long cycle = phases.stream().mapToLong(p -> p.length().toMillis()).sum();
    long into = Math.floorMod(millis - scheduleStart, cycle);
    for (Phase p : phases) {
      if (into < p.length().toMillis()) {
        return p.mode();
      }
      into -= p.length().toMillis();
    }
    return phases.getLast().mode();
  }

  public synchronized List<Receipt> receipts() {
    return List.copyOf(receipts);
  }

  /** Requests answered per mode, e.g. {@code {OK=120, ERROR=40}}. */
  public synchronized Map<String, Integer> countsByMode() {
    Map<String, Integer> counts = new TreeMap<>();
    receipts.forEach(r -> counts.merge(r.mode().name(), 1, Integer::sum));
    return counts;
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket socket = server.accept();
        synchronized (open) {
          open.add(socket);
        }
        threads.submit(() -> serve(socket));
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = new BufferedInputStream(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      while (!closed) {
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        String requestLine = readLine(in);
        if (requestLine == null) {
          return;
        }
        String line;
        while ((line = readLine(in)) != null && !line.isEmpty()) {
          int colon = line.indexOf(':');
          if (colon > 0) {
            headers.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
          }
        }
        long arrived = System.currentTimeMillis();
        int length = Integer.parseInt(headers.getOrDefault("Content-Length", "0"));
        String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        java.util.regex.Matcher m = EVENT_KEY.matcher(body);
        String eventKey = m.find() ? m.group(1) : null;
        String[] parts = requestLine.split(" ");
        String path = parts.length > 1 ? parts[1].replaceAll("\\?.*", "") : "?";
        String key = headers.get("Idempotency-Key");
        Mode mode = modeAt(arrived);
        switch (mode) {
          case OK -> {
            answer(out, 200, "OK", "", "{\"ok\":true}");
            record(key, eventKey, path, arrived, mode, 200, 0);
          }
          case ERROR -> {
            answer(out, 503, "Service Unavailable", "", "{\"error\":\"flapping\"}");
            record(key, eventKey, path, arrived, mode, 503, 0);
          }
          case THROTTLE -> {
            int seconds = retryAfterSeconds;
            // recorded before the answer leaves, so no later request can be seen "before" it
            record(key, eventKey, path, arrived, mode, 429, seconds);
            answer(out, 429, "Too Many Requests", "Retry-After: " + seconds + "\r\n", "{}");
          }
          case TIMEOUT -> {
            try {
              Thread.sleep(holdFor.toMillis());
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            record(key, eventKey, path, arrived, mode, -1, 0);
            return; // closed without an answer
          }
          case RESET -> {
            record(key, eventKey, path, arrived, mode, -2, 0);
            socket.setSoLinger(true, 0);
            return; // close() with linger 0 sends RST
          }
        }
        if ("close".equalsIgnoreCase(headers.getOrDefault("Connection", ""))) {
          return;
        }
      }
    } catch (IOException | RuntimeException e) {
      // the gateway gave up on the connection: nothing to answer
    } finally {
      synchronized (open) {
        open.remove(socket);
      }
    }
  }

  private synchronized void record(
      String key,
      String eventKey,
      String path,
      long arrived,
      Mode mode,
      int status,
      int retryAfter) {
    receipts.add(
        new Receipt(
            seq.incrementAndGet(),
            key,
            eventKey,
            path,
            arrived,
            System.currentTimeMillis(),
            mode,
            status,
            retryAfter));
  }

  private static void answer(OutputStream out, int status, String reason, String extra, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
            .formatted(status, reason, bytes.length, extra);
    out.write(head.getBytes(StandardCharsets.US_ASCII));
    out.write(bytes);
    out.flush();
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        int n = sb.length();
        return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
      }
      sb.append((char) c);
      if (sb.length() > 16_384) {
        throw new IOException("line too long");
      }
    }
    return sb.isEmpty() ? null : sb.toString();
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    synchronized (open) {
      for (Socket s : open) {
        try {
          s.close();
        } catch (IOException | RuntimeException e) {
          // closing anyway
        }
      }
    }
    threads.shutdownNow();
  }

  static String describe(List<Phase> phases) {
    StringBuilder sb = new StringBuilder();
    for (Phase p : phases) {
      if (!sb.isEmpty()) {
        sb.append(", ");
      }
      sb.append(p.mode().name().toLowerCase(Locale.ROOT))
          .append(' ')
          .append(p.length().toMillis())
          .append("ms");
    }
    return sb.toString();
  }
}
