import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Constant-rate (open-loop) HTTP/1.1 load for the Switchboard bench; JDK only, run with
 * {@code java RateClient.java ...}.
 *
 * <p>Request i is due at {@code t0 + i / rate}, whatever happened to the earlier ones; at its
 * due time it goes to an idle keep-alive connection, or, when every connection is busy, to the
 * first one that frees up. Latency is measured from the due time to the last byte of the answer,
 * so that wait counts (no coordinated omission, as in wrk2); "service" latency, from the
 * request's write to the last byte of the answer, is reported beside it.
 *
 * <p>One thread does everything (non-blocking sockets, one selector), so the client stays light
 * and leaves the CPU to the gateway. While the next request is due in less than a millisecond it
 * sleeps with {@code parkNanos} instead of waiting on the selector, so an answer arriving then is
 * timed up to one request interval late (under 0.2 ms at 5,000 requests/s).
 *
 * <p>Requests come from the fixed-size records of gen_requests.py, starting at record {@code
 * start}; each is used once. Requests due during the first {@code warmup} seconds are sent but
 * not counted.
 *
 * <p>usage: java RateClient.java HOST PORT FILE RECORD_SIZE START RECORD_COUNT RATE DURATION_S
 * WARMUP_S CONNECTIONS OUT_JSON
 */
public final class RateClient {
  private final InetSocketAddress address;
  private final MappedByteBuffer region;
  private final int rec;
  private final long count;
  private final long warmupCount;
  private final long t0;
  private final double intervalNanos;
  private final Selector selector;

  // figures, indexed by request number - warmupCount (written by the reader thread only)
  private final long[] latency;
  private final long[] service;
  private final int[] status;
  private long warmup202;
  private final long[] worstPerSecond; // the longest latency of requests due in each second
  private long connectionErrors;
  private long maxSendLag; // how late the loop noticed a request was due

  private final ArrayDeque<Conn> idle = new ArrayDeque<>();
  private long released; // requests due so far
  private long assigned; // requests handed to a connection so far
  private long finished; // requests answered or failed

  private RateClient(
      InetSocketAddress address,
      MappedByteBuffer region,
      int rec,
      long count,
      long warmupCount,
      long t0,
      double intervalNanos)
      throws IOException {
    this.address = address;
    this.region = region;
    this.rec = rec;
    this.count = count;
    this.warmupCount = warmupCount;
    this.t0 = t0;
    this.intervalNanos = intervalNanos;
    this.selector = Selector.open();
    int measured = (int) (count - warmupCount);
    this.latency = new long[measured];
    this.service = new long[measured];
    this.status = new int[measured];
    Arrays.fill(latency, -1);
    this.scratch = new byte[rec];
    this.worstPerSecond = new long[(int) Math.ceil((count - warmupCount) * intervalNanos / 1e9) + 1];
  }

  /** One keep-alive connection with at most one request outstanding. */
  private final class Conn {
    SocketChannel channel;
    SelectionKey key;
    final ByteBuffer out = ByteBuffer.allocateDirect(rec);
    final byte[] in = new byte[64 * 1024];
    int filled;
    long index = -1;
    long due;
    long sentAt;

    void open() throws IOException {
      channel = SocketChannel.open();
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      channel.connect(address);
      channel.configureBlocking(false);
      filled = 0;
      key = null;
    }
  }

  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    Path file = Path.of(args[2]);
    int rec = Integer.parseInt(args[3]);
    long start = Long.parseLong(args[4]);
    long total = Long.parseLong(args[5]);
    double rate = Double.parseDouble(args[6]);
    double duration = Double.parseDouble(args[7]);
    double warmup = Double.parseDouble(args[8]);
    int connections = Integer.parseInt(args[9]);
    Path out = Path.of(args[10]);

    long count = (long) Math.floor(rate * (warmup + duration));
    long warmupCount = (long) Math.floor(rate * warmup);
    if (start + count > total) {
      throw new IllegalArgumentException(
          "request file too small: need records up to " + (start + count) + ", have " + total);
    }
    long regionBytes = count * (long) rec;
    if (regionBytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("too many requests for one mapping: " + count);
    }
    MappedByteBuffer region;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      region = ch.map(FileChannel.MapMode.READ_ONLY, start * rec, regionBytes);
    }
    region.load();

    long t0 = System.nanoTime() + 200_000_000L;
    RateClient client =
        new RateClient(
            new InetSocketAddress(host, port), region, rec, count, warmupCount, t0, 1e9 / rate);
    client.connect(connections);
    client.run(t0 + (long) ((warmup + duration) * 1e9) + TimeUnit.SECONDS.toNanos(30));
    String json = client.figures(rate, duration, connections, start + count);
    Files.writeString(out, json + "\n");
    System.out.println("BENCH_JSON " + json);
  }

  private void connect(int connections) throws IOException {
    for (int i = 0; i < connections; i++) {
      Conn c = new Conn();
      c.open();
      c.key = c.channel.register(selector, SelectionKey.OP_READ, c);
      idle.add(c);
    }
  }

  private long dueOf(long i) {
    return t0 + (long) (i * intervalNanos);
  }

  /** The loop: releases requests when due, reads answers, until all are answered or deadline. */
  private void run(long deadline) throws IOException {
    while (finished < count && System.nanoTime() < deadline) {
      long now = System.nanoTime();
      while (released < count && dueOf(released) <= now) {
        if (released >= warmupCount) {
          maxSendLag = Math.max(maxSendLag, now - dueOf(released));
        }
        released++;
      }
      dispatch();
      if (selector.selectNow() > 0) {
        readReady();
        continue;
      }
      long wait = released < count ? dueOf(released) - System.nanoTime() : Long.MAX_VALUE;
      if (wait > 2_000_000L) {
        // nothing due for a while: wait on the sockets, waking a millisecond early
        long ms = Math.min(wait / 1_000_000L - 1, 100);
        if (selector.select(ms) > 0) {
          readReady();
        }
      } else if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
    }
  }

  /** Hands released requests to idle connections. */
  private void dispatch() {
    while (assigned < released && !idle.isEmpty()) {
      Conn c = idle.poll();
      long i = assigned++;
      c.index = i;
      c.due = dueOf(i);
      c.out.clear();
      region.get((int) (i * rec), scratch, 0, rec);
      c.out.put(scratch, 0, rec);
      c.out.flip();
      c.sentAt = System.nanoTime();
      try {
        while (c.out.hasRemaining()) {
          if (c.channel.write(c.out) == 0) {
            Thread.onSpinWait();
          }
        }
      } catch (IOException e) {
        connectionErrors++;
        reopen(c, true);
      }
    }
  }

  /** Closes c and opens it again; its outstanding request, if any, got no answer. */
  private void reopen(Conn c, boolean lostRequest) {
    if (lostRequest) {
      finished++;
    }
    c.index = -1;
    idle.remove(c);
    try {
      if (c.key != null) {
        c.key.cancel();
      }
      c.channel.close();
    } catch (IOException ignored) {
      // reopening anyway
    }
    try {
      selector.selectNow(); // flushes the cancelled key
      c.open();
      c.key = c.channel.register(selector, SelectionKey.OP_READ, c);
      idle.add(c);
    } catch (IOException e) {
      connectionErrors++;
    }
  }

  private void readReady() {
    var keys = selector.selectedKeys();
    for (SelectionKey key : keys) {
      Conn c = (Conn) key.attachment();
      if (!key.isValid() || c.key != key) {
        continue;
      }
      readBuf.clear();
      int n;
      try {
        n = c.channel.read(readBuf);
      } catch (IOException e) {
        n = -1;
      }
      if (n < 0) {
        if (c.index >= 0) {
          connectionErrors++;
        }
        reopen(c, c.index >= 0);
        continue;
      }
      readBuf.flip();
      int take = Math.min(c.in.length - c.filled, readBuf.remaining());
      readBuf.get(c.in, c.filled, take);
      c.filled += take;
      int used = complete(c);
      if (used > 0) {
        long done = System.nanoTime();
        int code = statusOf(c);
        System.arraycopy(c.in, used, c.in, 0, c.filled - used);
        c.filled -= used;
        record(c, done, code);
        finished++;
        c.index = -1;
        if (closes) {
          reopen(c, false);
        } else {
          idle.add(c);
        }
      }
    }
    keys.clear();
    dispatch();
  }

  private final ByteBuffer readBuf = ByteBuffer.allocateDirect(64 * 1024);
  private final byte[] scratch;
  private boolean closes;

  /**
   * Length of the complete answer at the start of c.in, or 0 while it is incomplete. Parses the
   * bytes in place (no garbage, so no collector pauses in the client).
   */
  private int complete(Conn c) {
    byte[] b = c.in;
    int end = -1;
    for (int i = 3; i < c.filled; i++) {
      if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
        end = i + 1;
        break;
      }
    }
    if (end < 0) {
      return 0;
    }
    long length = 0;
    closes = false;
    int line = indexOfEol(b, 0, end) + 2; // skip the status line
    while (line < end - 2) {
      int eol = indexOfEol(b, line, end);
      if (startsWithIgnoreCase(b, line, eol, CONTENT_LENGTH)) {
        length = 0;
        for (int i = line + CONTENT_LENGTH.length; i < eol; i++) {
          if (b[i] >= '0' && b[i] <= '9') {
            length = length * 10 + (b[i] - '0');
          }
        }
      } else if (startsWithIgnoreCase(b, line, eol, CONNECTION)) {
        closes = containsIgnoreCase(b, line + CONNECTION.length, eol, CLOSE);
      } else if (startsWithIgnoreCase(b, line, eol, TRANSFER_ENCODING)) {
        throw new IllegalStateException("chunked answers are not supported by this client");
      }
      line = eol + 2;
    }
    return c.filled >= end + length ? (int) (end + length) : 0;
  }

  private static final byte[] CONTENT_LENGTH = "content-length:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CONNECTION = "connection:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TRANSFER_ENCODING =
      "transfer-encoding:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CLOSE = "close".getBytes(StandardCharsets.US_ASCII);

  private static int indexOfEol(byte[] b, int from, int end) {
    for (int i = from; i + 1 < end; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n') {
        return i;
      }
    }
    return end;
  }

  private static boolean startsWithIgnoreCase(byte[] b, int from, int end, byte[] lower) {
    if (end - from < lower.length) {
      return false;
    }
    for (int i = 0; i < lower.length; i++) {
      byte x = b[from + i];
      if (x >= 'A' && x <= 'Z') {
        x = (byte) (x + 32);
      }
      if (x != lower[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean containsIgnoreCase(byte[] b, int from, int end, byte[] lower) {
    for (int i = from; i + lower.length <= end; i++) {
      if (startsWithIgnoreCase(b, i, end, lower)) {
        return true;
      }
    }
    return false;
  }

  private static int statusOf(Conn c) {
    // "HTTP/1.1 202 ..."
    return (c.in[9] - '0') * 100 + (c.in[10] - '0') * 10 + (c.in[11] - '0');
  }

  private void record(Conn c, long done, int code) {
    long index = c.index - warmupCount;
    if (c.index < 0) {
      return;
    }
    if (index < 0) {
      if (code == 202) {
        warmup202++;
      }
      return;
    }
    latency[(int) index] = done - c.due;
    service[(int) index] = done - c.sentAt;
    status[(int) index] = code;
    int second = (int) ((c.due - dueOf(warmupCount)) / 1_000_000_000L);
    if (second >= 0 && second < worstPerSecond.length) {
      worstPerSecond[second] = Math.max(worstPerSecond[second], done - c.due);
    }
  }

  private String figures(double rate, double duration, int connections, long next) {
    int measured = latency.length;
    long[] lat = new long[measured];
    long[] svc = new long[measured];
    int n = 0;
    long noAnswer = 0;
    long non2xx = 0;
    Map<String, Long> statuses = new TreeMap<>();
    for (int i = 0; i < measured; i++) {
      if (latency[i] < 0) {
        noAnswer++;
        statuses.merge("no_answer", 1L, Long::sum);
        continue;
      }
      statuses.merge(Integer.toString(status[i]), 1L, Long::sum);
      if (status[i] / 100 != 2) {
        non2xx++;
      }
      lat[n] = latency[i];
      svc[n] = service[i];
      n++;
    }
    lat = Arrays.copyOf(lat, n);
    svc = Arrays.copyOf(svc, n);
    Arrays.sort(lat);
    Arrays.sort(svc);
    StringBuilder st = new StringBuilder();
    statuses.forEach(
        (k, v) -> st.append(st.isEmpty() ? "" : ",").append('"').append(k).append("\":").append(v));
    return String.format(
        Locale.ROOT,
        "{\"target_rps\":%.1f,\"achieved_rps\":%.1f,\"duration_s\":%.1f,\"connections\":%d,"
            + "\"sent\":%d,\"answered\":%d,\"no_answer\":%d,\"non2xx\":%d,\"statuses\":{%s},"
            + "\"connection_errors\":%d,\"max_send_lag_us\":%d,"
            + "\"latency_us\":%s,\"service_us\":%s,\"warmup_202\":%d,\"next_index\":%d,"
            + "\"worst_per_second_us\":%s}",
        rate,
        n / duration,
        duration,
        connections,
        measured,
        n,
        noAnswer,
        non2xx,
        st,
        connectionErrors,
        maxSendLag / 1000,
        percentiles(lat),
        percentiles(svc),
        warmup202,
        next,
        worstSeconds());
  }

  /** [[second, longest latency in µs], ...] for every second of the measured phase. */
  private String worstSeconds() {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < worstPerSecond.length; i++) {
      if (worstPerSecond[i] > 0) {
        b.append(b.length() > 1 ? "," : "").append('[').append(i).append(',')
            .append(worstPerSecond[i] / 1000).append(']');
      }
    }
    return b.append(']').toString();
  }

  private static String percentiles(long[] sorted) {
    if (sorted.length == 0) {
      return "{}";
    }
    double sum = 0;
    for (long v : sorted) {
      sum += v;
    }
    return String.format(
        Locale.ROOT,
        "{\"p50\":%d,\"p90\":%d,\"p99\":%d,\"p999\":%d,\"max\":%d,\"mean\":%.1f}",
        pct(sorted, 50) / 1000,
        pct(sorted, 90) / 1000,
        pct(sorted, 99) / 1000,
        pct(sorted, 99.9) / 1000,
        sorted[sorted.length - 1] / 1000,
        sum / sorted.length / 1000);
  }

  /** Nearest-rank percentile. */
  private static long pct(long[] sorted, double p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
