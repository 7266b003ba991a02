import java.io.BufferedInputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Locale;

/**
 * The fake delivery destination of the Switchboard bench; JDK only, run with {@code java
 * Receiver.java ...} (or compiled, as run.sh does).
 *
 * <p>Answers every request at once with {@code 200} and an empty body over HTTP/1.1 keep-alive,
 * and
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
      System.err.println("usage: java Receiver.java PORT KEY_CAPACITY RECORD_CAPACITY");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    long keyCapacity = Long.parseLong(args[1]);
    int recordCapacity = Integer.parseInt(args[2]);
    // idle keep-alive connections stay open (no idle timeout): the gateway's pooled connections
    // must survive a paused destination without resets

    Receiver receiver = new Receiver(keyCapacity, recordCapacity);
    // A bare HTTP/1.1 server: one platform thread per connection doing blocking reads, so a request
    // wakes exactly the thread that handles it (no selector or executor hand-offs): a real
    // destination runs on another machine, and on this one the receiver should cost as little of
    // the shared cores as possible.
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress("127.0.0.1", port), 1024);
    System.out.println("receiver listening on 127.0.0.1:" + port);
    while (true) {
      Socket socket = server.accept();
      socket.setTcpNoDelay(true);
      Thread.ofPlatform().daemon().name("conn").start(() -> receiver.serve(socket));
    }
  }

  private static final byte[] OK = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** Reads requests off one connection until the peer closes it. */
  private void serve(Socket socket) {
    try (socket;
        InputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        OutputStream out = socket.getOutputStream()) {
      byte[] head = new byte[16 * 1024];
      byte[] body = new byte[16 * 1024];
      while (true) {
        int h = readHead(in, head);
        if (h < 0) {
          return;
        }
        String headText = new String(head, 0, h, StandardCharsets.ISO_8859_1);
        int lineEnd = headText.indexOf("\r\n");
        String[] requestLine = headText.substring(0, lineEnd).split(" ");
        String method = requestLine[0];
        String target = requestLine.length > 1 ? requestLine[1] : "/";
        long length = 0;
        String idem = null;
        boolean close = false;
        for (String line : headText.substring(lineEnd + 2).split("\r\n")) {
          int colon = line.indexOf(':');
          if (colon <= 0) {
            continue;
          }
          String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
          String value = line.substring(colon + 1).trim();
          switch (name) {
            case "content-length" -> length = Long.parseLong(value);
            case "idempotency-key" -> idem = value;
            case "connection" -> close = value.equalsIgnoreCase("close");
            default -> {}
          }
        }
        // the whole body is read (the key is near its start; what does not fit is skipped)
        int n = 0;
        long left = length;
        while (left > 0) {
          int r = n < body.length ? in.read(body, n, (int) Math.min(body.length - n, left)) : (int) in.skip(left);
          if (r <= 0) {
            return;
          }
          if (n < body.length) {
            n += r;
          }
          left -= r;
        }
        String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
        if (method.equals("GET") && path.equals("/stats")) {
          out.write(answer(200, stats()));
        } else if (method.equals("GET") && path.equals("/dump")) {
          out.write(dump(target.contains("?") ? target.substring(target.indexOf('?') + 1) : null));
        } else {
          record(keyOf(body, n), nowMicros(), idem);
          out.write(OK);
        }
        out.flush();
        if (close) {
          return;
        }
      }
    } catch (IOException e) {
      // the gateway hung up
    }
  }

  /** Reads up to the blank line after the headers; its length, or -1 at the end of the stream. */
  private static int readHead(InputStream in, byte[] head) throws IOException {
    int n = 0;
    while (true) {
      int c = in.read();
      if (c < 0) {
        return -1;
      }
      if (n == head.length) {
        throw new IOException("request head too long");
      }
      head[n++] = (byte) c;
      if (n >= 4 && head[n - 1] == '\n' && head[n - 2] == '\r' && head[n - 3] == '\n' && head[n - 4] == '\r') {
        return n;
      }
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

  private byte[] dump(String query) throws IOException {
    String file = null;
    if (query != null) {
      for (String part : query.split("&")) {
        if (part.startsWith("file=")) {
          file = URLDecoder.decode(part.substring(5), StandardCharsets.UTF_8);
        }
      }
    }
    if (file == null) {
      return answer(400, "{\"error\":\"file= is required\"}");
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
    return answer(200, stats());
  }

  private static byte[] answer(int status, String json) {
    byte[] body = (json + "\n").getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 " + status + (status == 200 ? " OK" : " Bad Request")
            + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.US_ASCII);
    byte[] all = new byte[h.length + body.length];
    System.arraycopy(h, 0, all, 0, h.length);
    System.arraycopy(body, 0, all, h.length, body.length);
    return all;
  }
}
