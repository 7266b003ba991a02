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
import java.time.Instant;
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
 * <p>With SEND_LOG, it also writes one line per counted request: the event's key (the hex digits
 * after the last {@code -} of the body's {@code interactionId}, read from the bytes sent, as
 * Receiver.java reads them), the time its first byte was written (epoch microseconds, {@code
 * Instant.now()}; 0 if never sent), the status of its answer (0: none), and the time it was due
 * (epoch microseconds). The bench joins it with what the fake destination received to get
 * end-to-end latency.
 *
 * <p>{@code --burst} sends exactly COUNT requests as fast as the connections allow (every request is
 * due at once; each connection sends its next one as soon as it has an answer), giving up after
 * TIMEOUT_S: for filling a backlog. "achieved_rps" is then answers per second from the first send to
 * the last answer, "duration_s" that time; the latencies count from the start (not meaningful).
 *
 * <p>usage: java RateClient.java HOST PORT FILE RECORD_SIZE START RECORD_COUNT RATE DURATION_S
 * WARMUP_S CONNECTIONS OUT_JSON [SEND_LOG]
 *
 * <p>or: java RateClient.java --burst HOST PORT FILE RECORD_SIZE START RECORD_COUNT COUNT TIMEOUT_S
 * CONNECTIONS OUT_JSON
 */
public final class RateClient {
  private final InetSocketAddress address;
  private final MappedByteBuffer[] chunks; // the records, at most CHUNK_BYTES per mapping
  private final long chunkRecords;
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
  private long firstSend; // nanoTime of the first write, 0 before
  private long lastAnswer; // nanoTime of the last answer

  // the send log (null when not asked for), indexed like latency
  private final long[] sendMicros;
  private final long[] sendKeys;
  private final long t0EpochMicros; // t0 on the epoch clock, for the due times in the send log

  private final ArrayDeque<Conn> idle = new ArrayDeque<>();
  private long released; // requests due so far
  private long assigned; // requests handed to a connection so far
  private long finished; // requests answered or failed

  private static final long CHUNK_BYTES = 1L << 30;

  private RateClient(
      InetSocketAddress address,
      MappedByteBuffer[] chunks,
      long chunkRecords,
      int rec,
      long count,
      long warmupCount,
      long t0,
      double intervalNanos,
      boolean sendLog)
      throws IOException {
    this.address = address;
    this.chunks = chunks;
    this.chunkRecords = chunkRecords;
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
    this.sendMicros = sendLog ? new long[measured] : null;
    this.sendKeys = sendLog ? new long[measured] : null;
    Instant now = Instant.now();
    long nanoNow = System.nanoTime();
    this.t0EpochMicros =
        now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000 + (t0 - nanoNow) / 1_000;
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
    boolean burst = args.length > 0 && args[0].equals("--burst");
    int a = burst ? 1 : 0;
    String host = args[a];
    int port = Integer.parseInt(args[a + 1]);
    Path file = Path.of(args[a + 2]);
    int rec = Integer.parseInt(args[a + 3]);
    long start = Long.parseLong(args[a + 4]);
    long total = Long.parseLong(args[a + 5]);
    double rate;
    double duration;
    double warmup;
    long count;
    long warmupCount;
    double timeout;
    if (burst) {
      count = Long.parseLong(args[a + 6]);
      timeout = Double.parseDouble(args[a + 7]);
      rate = Double.POSITIVE_INFINITY;
      duration = 0;
      warmup = 0;
      warmupCount = 0;
    } else {
      rate = Double.parseDouble(args[a + 6]);
      duration = Double.parseDouble(args[a + 7]);
      warmup = Double.parseDouble(args[a + 8]);
      count = (long) Math.floor(rate * (warmup + duration));
      warmupCount = (long) Math.floor(rate * warmup);
      timeout = warmup + duration + 30;
    }
    int connections = Integer.parseInt(args[burst ? a + 8 : a + 9]);
    Path out = Path.of(args[burst ? a + 9 : a + 10]);
    Path sendLog = !burst && args.length > a + 11 ? Path.of(args[a + 11]) : null;

    if (start + count > total) {
      throw new IllegalArgumentException(
          "request file too small: need records up to " + (start + count) + ", have " + total);
    }
    long chunkRecords = Math.max(1, CHUNK_BYTES / rec);
    MappedByteBuffer[] chunks = new MappedByteBuffer[(int) ((count + chunkRecords - 1) / chunkRecords)];
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      for (int k = 0; k < chunks.length; k++) {
        long first = k * chunkRecords;
        long n = Math.min(chunkRecords, count - first);
        chunks[k] = ch.map(FileChannel.MapMode.READ_ONLY, (start + first) * rec, n * rec);
        chunks[k].load();
      }
    }

    long t0 = System.nanoTime() + 200_000_000L;
    RateClient client =
        new RateClient(
            new InetSocketAddress(host, port),
            chunks,
            chunkRecords,
            rec,
            count,
            warmupCount,
            t0,
            burst ? 0 : 1e9 / rate,
            sendLog != null);
    client.connect(connections);
    client.run(t0 + (long) (timeout * 1e9));
    if (burst) {
      duration = client.lastAnswer > client.firstSend ? (client.lastAnswer - client.firstSend) / 1e9 : 0;
    }
    String json = client.figures(rate, duration, connections, start + count);
    Files.writeString(out, json + "\n");
    if (sendLog != null) {
      client.writeSendLog(sendLog);
    }
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
      chunks[(int) (i / chunkRecords)].get((int) ((i % chunkRecords) * rec), scratch, 0, rec);
      c.out.put(scratch, 0, rec);
      c.out.flip();
      if (sendMicros != null && i >= warmupCount) {
        Instant now = Instant.now();
        sendMicros[(int) (i - warmupCount)] = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
        sendKeys[(int) (i - warmupCount)] = keyOf(scratch, rec);
      }
      c.sentAt = System.nanoTime();
      if (firstSend == 0) {
        firstSend = c.sentAt;
      }
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
        lastAnswer = done;
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
        "{\"target_rps\":%.1f,\"achieved_rps\":%.1f,\"duration_s\":%.3f,\"connections\":%d,"
            + "\"sent\":%d,\"answered\":%d,\"no_answer\":%d,\"non2xx\":%d,\"statuses\":{%s},"
            + "\"connection_errors\":%d,\"max_send_lag_us\":%d,"
            + "\"latency_us\":%s,\"service_us\":%s,\"warmup_202\":%d,\"next_index\":%d,"
            + "\"worst_per_second_us\":%s}",
        Double.isInfinite(rate) ? 0.0 : rate,
        duration > 0 ? n / duration : 0.0,
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

  private static final byte[] KEY_FIELD =
      "\"interactionId\"".getBytes(StandardCharsets.US_ASCII);

  /**
   * The hex digits after the last '-' of the first "interactionId" string value in b[0, n), or -1
   * (the same reading as Receiver.java's).
   */
  static long keyOf(byte[] b, int n) {
    int at = -1;
    outer:
    for (int i = 0; i + KEY_FIELD.length <= n; i++) {
      for (int k = 0; k < KEY_FIELD.length; k++) {
        if (b[i + k] != KEY_FIELD[k]) {
          continue outer;
        }
      }
      at = i;
      break;
    }
    if (at < 0) {
      return -1;
    }
    int i = at + KEY_FIELD.length;
    while (i < n && (b[i] == ' ' || b[i] == ':')) {
      i++;
    }
    if (i >= n || b[i] != '"') {
      return -1;
    }
    int start = ++i;
    int dash = -1;
    while (i < n && b[i] != '"') {
      if (b[i] == '-') {
        dash = i;
      }
      i++;
    }
    int from = dash < 0 ? start : dash + 1;
    if (i >= n || i - from < 1 || i - from > 15) {
      return -1;
    }
    long v = 0;
    for (int k = from; k < i; k++) {
      int d = Character.digit(b[k], 16);
      if (d < 0) {
        return -1;
      }
      v = (v << 4) | d;
    }
    return v;
  }

  /**
   * key send_us status due_us, one line per counted request (send_us 0: never sent; status 0: no
   * answer; due_us: when it was scheduled, on the same clock).
   */
  private void writeSendLog(Path file) throws IOException {
    try (var w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII)) {
      StringBuilder line = new StringBuilder(64);
      for (int i = 0; i < sendMicros.length; i++) {
        line.setLength(0);
        line.append(sendKeys[i]).append(' ').append(sendMicros[i]).append(' ')
            .append(latency[i] < 0 ? 0 : status[i]).append(' ')
            .append(t0EpochMicros + (dueOf(warmupCount + i) - t0) / 1_000).append('\n');
        w.append(line);
      }
    }
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
