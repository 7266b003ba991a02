import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The fake delivery destination of the Switchboard bench; JDK only, run with {@code java
 * Receiver.java ...} (or compiled, as run.sh does).
 *
 * <p>Answers every request at once with {@code 200} and an empty body (HTTP/1.1 keep-alive,
 * {@code com.sun.net.httpserver} on virtual threads, or on a small fixed pool when THREADS > 0), and
 * records per request, in arrays allocated at start: the receive time (epoch microseconds, {@code
 * Instant.now()}, taken once the body is read), the event's key and a hash of its {@code
 * Idempotency-Key} header. The key is found with a plain byte search, not a JSON parser: the value
 * of the first {@code "interactionId"} field, of which the hex digits after the last {@code -} are
 * read as a number (gen_requests.py writes the request's record number there, so keys are small
 * and unique). A bit set over keys below KEY_CAPACITY counts distinct keys and duplicates as they
 * arrive.
 *
 * <ul>
 *   <li>{@code GET /stats}: one JSON line: received, unique, duplicates, unparsed (no key found),
 *       out_of_range (key ≥ KEY_CAPACITY), no_idempotency_key, dropped (past RECORD_CAPACITY, counted
 *       but not kept), first_us / last_us (first and last receive time).
 *   <li>{@code GET /dump?file=PATH}: writes every kept record so far to PATH (text, one line per
 *       request in arrival order: {@code key receive_us idempotency_key_hash}; key -1 when none was
 *       found), through a temporary file and a rename; answers the stats.
 *   <li>anything else: recorded as a delivery, answered 200.
 * </ul>
 *
 * <p>Listens on 127.0.0.1 only. usage: java Receiver.java PORT KEY_CAPACITY RECORD_CAPACITY
 * [THREADS]
 */
public final class Receiver {
  private static final byte[] FIELD = "\"interactionId\"".getBytes(StandardCharsets.US_ASCII);

  private final Object lock = new Object();
  private final long[] keys;
  private final long[] times;
  private final int[] idemHashes;
  private final long[] seen; // bit set over keys < keyCapacity
  private final long keyCapacity;
  private int stored;
  private long received;
  private long unique;
  private long duplicates;
  private long unparsed;
  private long outOfRange;
  private long noIdempotencyKey;
  private long dropped;
  private long firstMicros;
  private long lastMicros;

  private Receiver(long keyCapacity, int recordCapacity) {
    this.keyCapacity = keyCapacity;
    this.keys = new long[recordCapacity];
    this.times = new long[recordCapacity];
    this.idemHashes = new int[recordCapacity];
    this.seen = new long[(int) ((keyCapacity + 63) / 64)];
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 3) {
      System.err.println("usage: java Receiver.java PORT KEY_CAPACITY RECORD_CAPACITY [THREADS]");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    long keyCapacity = Long.parseLong(args[1]);
    int recordCapacity = Integer.parseInt(args[2]);
    int threads = args.length > 3 ? Integer.parseInt(args[3]) : 0;
    // keep idle keep-alive connections open (the JDK closes them after 30 s by default): the
    // gateway's pooled connections must survive a paused destination without resets
    defaultProperty("sun.net.httpserver.idleInterval", "3600");
    defaultProperty("sun.net.httpserver.maxIdleConnections", "1024");

    Receiver receiver = new Receiver(keyCapacity, recordCapacity);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 1024);
    ExecutorService executor =
        threads > 0
            ? Executors.newFixedThreadPool(threads)
            : Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    server.createContext("/", receiver::handle);
    server.start();
    System.out.println("receiver listening on 127.0.0.1:" + port);
  }

  private static void defaultProperty(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  private final ThreadLocal<byte[]> buffers = ThreadLocal.withInitial(() -> new byte[16 * 1024]);

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      if ("GET".equals(exchange.getRequestMethod())) {
        if (path.equals("/stats")) {
          answer(exchange, 200, stats());
          return;
        }
        if (path.equals("/dump")) {
          dump(exchange);
          return;
        }
      }
      // a delivery: read the body whole (up to the buffer; the bench's bodies are ~600 bytes)
      byte[] buf = buffers.get();
      int n = 0;
      try (InputStream in = exchange.getRequestBody()) {
        int r;
        while ((r = in.read(buf, n, buf.length - n)) > 0) {
          n += r;
          if (n == buf.length) {
            in.skip(Long.MAX_VALUE); // the key is near the start; drop the rest
            break;
          }
        }
      }
      Instant now = Instant.now();
      long micros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
      String idem = exchange.getRequestHeaders().getFirst("Idempotency-Key");
      record(keyOf(buf, n), micros, idem);
      exchange.sendResponseHeaders(200, -1);
    }
  }

  private void record(long key, long micros, String idem) {
    synchronized (lock) {
      received++;
      if (received == 1) {
        firstMicros = micros;
      }
      lastMicros = Math.max(lastMicros, micros);
      if (idem == null) {
        noIdempotencyKey++;
      }
      if (key < 0) {
        unparsed++;
      } else if (key >= keyCapacity) {
        outOfRange++;
      } else {
        int word = (int) (key >>> 6);
        long bit = 1L << (key & 63);
        if ((seen[word] & bit) != 0) {
          duplicates++;
        } else {
          seen[word] |= bit;
          unique++;
        }
      }
      if (stored < keys.length) {
        keys[stored] = key;
        times[stored] = micros;
        idemHashes[stored] = idem == null ? 0 : idem.hashCode();
        stored++;
      } else {
        dropped++;
      }
    }
  }

  /** The hex digits after the last '-' of the first "interactionId" string value, or -1. */
  static long keyOf(byte[] b, int n) {
    int at = indexOf(b, n, FIELD);
    if (at < 0) {
      return -1;
    }
    int i = at + FIELD.length;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n' || b[i] == ':')) {
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
    if (i >= n) {
      return -1;
    }
    int from = dash < 0 ? start : dash + 1;
    if (i - from < 1 || i - from > 15) {
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

  private static int indexOf(byte[] b, int n, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= n; i++) {
      if (b[i] != needle[0]) {
        continue;
      }
      for (int k = 1; k < needle.length; k++) {
        if (b[i + k] != needle[k]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private String stats() {
    synchronized (lock) {
      return String.format(
          Locale.ROOT,
          "{\"received\":%d,\"unique\":%d,\"duplicates\":%d,\"unparsed\":%d,\"out_of_range\":%d,"
              + "\"no_idempotency_key\":%d,\"stored\":%d,\"dropped\":%d,\"first_us\":%d,"
              + "\"last_us\":%d,\"now_us\":%d}",
          received,
          unique,
          duplicates,
          unparsed,
          outOfRange,
          noIdempotencyKey,
          stored,
          dropped,
          firstMicros,
          lastMicros,
          nowMicros());
    }
  }

  private static long nowMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

  private void dump(HttpExchange exchange) throws IOException {
    String query = exchange.getRequestURI().getRawQuery();
    String file = null;
    if (query != null) {
      for (String part : query.split("&")) {
        if (part.startsWith("file=")) {
          file = URLDecoder.decode(part.substring(5), StandardCharsets.UTF_8);
        }
      }
    }
    if (file == null) {
      answer(exchange, 400, "{\"error\":\"file= is required\"}");
      return;
    }
    int n;
    synchronized (lock) {
      n = stored; // records below n are complete (written under the lock)
    }
    Path target = Path.of(file);
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII)) {
      StringBuilder line = new StringBuilder(64);
      for (int i = 0; i < n; i++) {
        line.setLength(0);
        line.append(keys[i]).append(' ').append(times[i]).append(' ').append(idemHashes[i]).append('\n');
        w.append(line);
      }
    }
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    answer(exchange, 200, stats());
  }

  private static void answer(HttpExchange exchange, int status, String json) throws IOException {
    byte[] body = (json + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
