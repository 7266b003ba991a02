package dev.switchboard.ingest;

import static dev.switchboard.testing.GatewayFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import dev.switchboard.testing.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slow and hostile clients over raw sockets against a real gateway (docs/hardening.md): each gets
 * its documented answer or a connection closed by the server within a bound, nothing it sent is
 * stored, and a normal signed request from another client is served meanwhile.
 */
@Timeout(60)
class HostileClientIT {
  static final String SECRET = "hostile-test-secret";
  static final ObjectMapper JSON = new ObjectMapper();
  static final AtomicInteger SEQ = new AtomicInteger();

  /** Short so the test is quick; the bound on a slow client is this and one sweep period. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);

  static final Duration CLOSE_BOUND = REQUEST_TIMEOUT.plusSeconds(3);
  static final int MAX_BODY = 4096;

  @TempDir static Path dir;
  static GatewayFixture gw;

  private final List<Socket> opened = new ArrayList<>();
  private long eventsBefore;
  private int normalAccepted;

  @BeforeAll
  static void start() throws Exception {
    String yaml =
        """
        sources:
          signed:
            verify:
              scheme: hmac-sha256-hex
              header: X-Signature
              secrets: ["${SECRET}"]
            max_body: 4KB
          open:
            verify: { scheme: none }
            max_body: 256KB
        """;
    gw =
        GatewayFixture.start(
            dir,
            "  request_timeout: " + REQUEST_TIMEOUT.toSeconds() + "s\n",
            yaml,
            Map.of("SECRET", SECRET),
            new MutableClock(Instant.parse("2026-11-23T21:00:00Z")));
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  @BeforeEach
  void countEvents() {
    eventsBefore = gw.gateway().store().countEvents();
  }

  /** Nothing a hostile client sent was stored: only the normal requests made events. */
  @AfterEach
  void nothingRejectedWasStored() throws IOException {
    for (Socket s : opened) {
      s.close();
    }
    assertThat(gw.gateway().store().countEvents()).isEqualTo(eventsBefore + normalAccepted);
  }

  @Test
  void aHeaderSentOneByteAtATimeIsCutOffWithinTheRequestTimeout() throws Exception {
    Socket slow = connect();
    OutputStream out = slow.getOutputStream();
    out.write(ascii("POST /hooks/open HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
    AtomicBoolean stop = new AtomicBoolean();
    Thread trickle = trickle(out, stop, 'a');
    long started = System.nanoTime();

    normalRequestIsAccepted();
    Duration closedAfter = awaitClosedByServer(slow);

    stop.set(true);
    trickle.join(5_000);
    assertThat(closedAfter).isGreaterThanOrEqualTo(REQUEST_TIMEOUT.minusMillis(500));
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(CLOSE_BOUND);
    normalRequestIsAccepted();
  }

  @Test
  void aBodySentOneByteAtATimeIsCutOffAndNothingIsStored() throws Exception {
    Socket slow = connect();
    OutputStream out = slow.getOutputStream();
    out.write(
        ascii(
            "POST /hooks/open HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: 1000\r\n\r\n{\"a\":\""));
    AtomicBoolean stop = new AtomicBoolean();
    Thread trickle = trickle(out, stop, 'b');

    normalRequestIsAccepted();
    Duration closedAfter = awaitClosedByServer(slow);

    stop.set(true);
    trickle.join(5_000);
    assertThat(closedAfter).isLessThan(CLOSE_BOUND);
    normalRequestIsAccepted();
  }

  @Test
  void aHeaderTrickledOverTlsIsCutOffToo() throws Exception {
    Path tls = java.nio.file.Files.createDirectories(dir.resolve("tls"));
    TestCertificates.Identity ca = TestCertificates.ca("RSA");
    TestCertificates.Identity server = TestCertificates.server(ca, "RSA");
    Path chain =
        TestCertificates.writeCertificates(
            tls.resolve("chain.pem"), server.certificate(), ca.certificate());
    Path key = TestCertificates.writePkcs8Key(tls.resolve("server.key"), server.privateKey());
    try (GatewayFixture https =
        GatewayFixture.start(
            tls,
            "  request_timeout: 1s\n  tls: { cert: " + chain + ", key: " + key + " }\n",
            "sources:\n  open:\n    verify: { scheme: none }\n",
            Map.of(),
            new MutableClock(Instant.now()))) {
      javax.net.ssl.SSLSocket slow =
          (javax.net.ssl.SSLSocket)
              trusting(ca.certificate())
                  .getSocketFactory()
                  .createSocket("127.0.0.1", https.gateway().port());
      opened.add(slow);
      slow.startHandshake();
      OutputStream out = slow.getOutputStream();
      out.write(ascii("POST /hooks/open HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
      AtomicBoolean stop = new AtomicBoolean();
      Thread trickle = trickle(out, stop, 't');
      Duration closedAfter = awaitClosedByServer(slow);
      stop.set(true);
      trickle.join(5_000);
      assertThat(closedAfter).isBetween(Duration.ofMillis(500), Duration.ofSeconds(4));
    }
  }

  @Test
  void aHeaderOf64KibIsAnswered431() throws Exception {
    String big = "x".repeat(64 * 1024);
    Raw answer =
        exchange(
            "POST /hooks/open HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "X-Big: "
                + big
                + "\r\nContent-Length: 2\r\n\r\n{}");
    assertThat(answer.status()).isEqualTo(431);
    normalRequestIsAccepted();
  }

  @Test
  void twoThousandIdleAndHalfSentConnectionsDoNotStopANormalRequest() throws Exception {
    List<Socket> halfSent = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      Socket s = connect();
      if (i % 2 == 0) {
        s.getOutputStream().write(ascii("POST /hooks/open HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
        halfSent.add(s);
      }
    }
    long started = System.nanoTime();
    normalRequestIsAccepted();
    // the half-sent requests are all cut off by the request timeout, not left to the idle timeout
    for (Socket s : halfSent) {
      s.setSoTimeout((int) CLOSE_BOUND.toMillis());
      assertThat(readToEnd(s.getInputStream())).isEmpty();
    }
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(CLOSE_BOUND);
    normalRequestIsAccepted();
  }

  @Test
  void aBodyShorterThanItsContentLengthThenHalfClosedIsRefused() throws Exception {
    Socket s = connect();
    s.getOutputStream()
        .write(
            ascii(
                "POST /hooks/open HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000\r\n\r\n{\"short\":1}"));
    s.shutdownOutput();
    s.setSoTimeout((int) CLOSE_BOUND.toMillis());
    Raw answer = Raw.read(s.getInputStream());
    assertError(answer, 400, "invalid_json");
    normalRequestIsAccepted();
  }

  @Test
  void aBodyShorterThanItsContentLengthThenSilenceIsCutOff() throws Exception {
    Socket s = connect();
    s.getOutputStream()
        .write(
            ascii(
                "POST /hooks/open HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000\r\n\r\n{\"short\":1}"));
    normalRequestIsAccepted();
    assertThat(awaitClosedByServer(s)).isLessThan(CLOSE_BOUND);
  }

  @Test
  void bytesBeyondTheContentLengthAreReadAsAnotherRequestAndRefused() throws Exception {
    byte[] declared = utf8("{\"n\":\"cl-small-" + SEQ.incrementAndGet() + "\"}");
    Socket s = connect();
    s.getOutputStream()
        .write(
            ascii(
                "POST /hooks/open HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: "
                    + declared.length
                    + "\r\n\r\n"
                    + new String(declared, StandardCharsets.UTF_8)
                    + "{\"smuggled\":true}\r\n\r\n"));
    s.setSoTimeout((int) CLOSE_BOUND.toMillis());
    InputStream in = s.getInputStream();
    Raw first = Raw.read(in);
    assertThat(first.status()).isEqualTo(202);
    normalAccepted++; // the declared bytes are a valid request of their own
    String id = first.json().path("eventId").asText();
    assertThat(
            gw.gateway()
                .store()
                .findEvent(new dev.switchboard.domain.EventId(id))
                .orElseThrow()
                .payload())
        .isEqualTo(new String(declared, StandardCharsets.UTF_8));
    Raw second = Raw.read(in);
    assertThat(second.status()).isEqualTo(400);
    assertThat(readToEnd(in)).isEmpty();
  }

  @Test
  void aChunkedBodyPastMaxBodyIsAnswered413WithoutReadingItAll() throws Exception {
    Socket s = connect();
    OutputStream out = s.getOutputStream();
    out.write(
        ascii(
            "POST /hooks/signed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "X-Signature: 00\r\nTransfer-Encoding: chunked\r\n\r\n"));
    AtomicLong sent = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    byte[] chunk = ascii("2000\r\n" + " ".repeat(0x2000) + "\r\n");
    Thread writer =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    // up to 64 MiB, far more than the server should ever read
                    while (!stop.get() && sent.get() < 64L << 20) {
                      out.write(chunk);
                      sent.addAndGet(chunk.length);
                    }
                  } catch (IOException e) {
                    // the server answered and closed: that is the point
                  }
                });
    s.setSoTimeout((int) CLOSE_BOUND.toMillis());
    Raw answer = Raw.read(s.getInputStream());
    stop.set(true);
    s.close(); // the writer may be blocked writing to a server that no longer reads
    writer.join(5_000);
    assertError(answer, 413, "body_too_large");
    assertThat(sent.get()).isLessThan(16L << 20);
    normalRequestIsAccepted();
  }

  @Test
  void bodiesThatAreNotUtf8AreAnswered400() throws Exception {
    List<byte[]> bodies =
        List.of(
            // Latin-1 é inside a string
            new byte[] {'{', '"', 'n', '"', ':', '"', 'c', 'a', 'f', (byte) 0xE9, '"', '}'},
            // an overlong encoding of '/'
            new byte[] {'{', '"', 'n', '"', ':', '"', (byte) 0xC0, (byte) 0xAF, '"', '}'},
            // a UTF-16 surrogate encoded as if it were a character (CESU-8)
            new byte[] {
              '{', '"', 'n', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'
            },
            "{\"n\":\"utf-16\"}".getBytes(StandardCharsets.UTF_16LE),
            "{\"n\":\"utf-16\"}".getBytes(StandardCharsets.UTF_16),
            "{\"n\":\"utf-32\"}".getBytes(java.nio.charset.Charset.forName("UTF-32BE")));
    for (byte[] body : bodies) {
      assertError(postOpen(body), 400, "invalid_json");
    }
    normalRequestIsAccepted();
  }

  @Test
  void deeplyNestedJsonIsAnswered400NotAStackOverflow() throws Exception {
    assertError(postOpen(utf8("[".repeat(100_000))), 400, "invalid_json");
    assertError(postOpen(utf8("[".repeat(100_000) + "]".repeat(100_000))), 400, "invalid_json");
    assertError(
        postOpen(utf8("{\"a\":".repeat(20_000) + "1" + "}".repeat(20_000))), 400, "invalid_json");
    // as deep as the documented limit still goes through, and is stored as sent
    byte[] deepest =
        utf8("[".repeat(500) + "\"ok-" + SEQ.incrementAndGet() + "\"" + "]".repeat(500));
    assertThat(postOpen(deepest).statusCode()).isEqualTo(202);
    normalAccepted++;
    normalRequestIsAccepted();
  }

  @Test
  void hugeNumbersAreAnswered400() throws Exception {
    List<String> bodies =
        List.of(
            "{\"n\":1e1000000}",
            "{\"n\":-1e1000000}",
            "{\"n\":1e309}",
            "{\"n\":" + "9".repeat(100_000) + "}",
            "{\"n\":0." + "1".repeat(100_000) + "}");
    for (String body : bodies) {
      assertError(postOpen(utf8(body)), 400, "invalid_json");
    }
    // a long but reasonable number is kept as sent
    String big = "{\"n\":" + "1".repeat(300) + ",\"id\":" + SEQ.incrementAndGet() + "}";
    assertThat(postOpen(utf8(big)).statusCode()).isEqualTo(202);
    normalAccepted++;
    normalRequestIsAccepted();
  }

  @Test
  void duplicateKeysAreAnswered400() throws Exception {
    assertError(postOpen(utf8("{\"a\":1,\"a\":2}")), 400, "invalid_json");
    assertError(postOpen(utf8("{\"o\":{\"k\":\"x\",\"k\":\"y\"}}")), 400, "invalid_json");
    // the same name in different objects is not a duplicate
    String fine = "{\"a\":{\"k\":1},\"b\":{\"k\":2},\"id\":" + SEQ.incrementAndGet() + "}";
    assertThat(postOpen(utf8(fine)).statusCode()).isEqualTo(202);
    normalAccepted++;
    normalRequestIsAccepted();
  }

  // --- helpers ---------------------------------------------------------------------------------

  /** A normal signed request from another client, answered while the hostile ones go on. */
  private void normalRequestIsAccepted() throws Exception {
    byte[] body = utf8("{\"normal\":" + SEQ.incrementAndGet() + "}");
    HttpResponse<String> r =
        gw.post("signed", body, Map.of("X-Signature", Hmac.sha256Hex(SECRET, body)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    normalAccepted++;
  }

  private static HttpResponse<String> postOpen(byte[] body) throws Exception {
    return gw.post("open", body, Map.of());
  }

  private static void assertError(HttpResponse<String> r, int status, String code)
      throws IOException {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    JsonNode json = JSON.readTree(r.body());
    assertThat(json.path("error").asText()).isEqualTo(code);
    assertThat(json.path("message").asText()).isNotBlank();
  }

  private static void assertError(Raw r, int status, String code) throws IOException {
    assertThat(r.status()).as(r.text()).isEqualTo(status);
    assertThat(r.json().path("error").asText()).isEqualTo(code);
  }

  private Socket connect() throws IOException {
    Socket s = new Socket();
    opened.add(s);
    s.connect(new InetSocketAddress("127.0.0.1", gw.gateway().port()), 5_000);
    return s;
  }

  private Raw exchange(String request) throws IOException {
    Socket s = connect();
    s.setSoTimeout((int) CLOSE_BOUND.toMillis());
    try {
      s.getOutputStream().write(ascii(request));
    } catch (IOException e) {
      // the server may answer and close before it has read everything; read what it said
    }
    return Raw.read(s.getInputStream());
  }

  private static javax.net.ssl.SSLContext trusting(java.security.cert.X509Certificate ca)
      throws Exception {
    java.security.KeyStore anchors = java.security.KeyStore.getInstance("PKCS12");
    anchors.load(null, null);
    anchors.setCertificateEntry("test-ca", ca);
    javax.net.ssl.TrustManagerFactory tmf =
        javax.net.ssl.TrustManagerFactory.getInstance(
            javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(anchors);
    javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return context;
  }

  /** Writes one byte every 100 ms until stopped or the server closes the connection. */
  private static Thread trickle(OutputStream out, AtomicBoolean stop, char c) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try {
                while (!stop.get()) {
                  out.write(c);
                  out.flush();
                  java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L);
                }
              } catch (IOException e) {
                // closed by the server
              }
            });
  }

  /** Waits until the server closes {@code s} (EOF or reset), and says how long that took. */
  private static Duration awaitClosedByServer(Socket s) throws IOException {
    long started = System.nanoTime();
    s.setSoTimeout((int) CLOSE_BOUND.toMillis() + 1_000);
    try {
      readToEnd(s.getInputStream());
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server did not close the connection within " + CLOSE_BOUND);
    }
    return Duration.ofNanos(System.nanoTime() - started);
  }

  /** Everything until EOF; a reset counts as the end too. */
  private static byte[] readToEnd(InputStream in) throws SocketTimeoutException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try {
      int n;
      while ((n = in.read(buffer)) != -1) {
        got.write(buffer, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw e;
    } catch (IOException e) {
      // connection reset by the server: closed
    }
    return got.toByteArray();
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** One HTTP/1.1 response read off a raw socket. */
  record Raw(int status, Map<String, String> headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    JsonNode json() throws IOException {
      return JSON.readTree(body);
    }

    static Raw read(InputStream in) throws IOException {
      String statusLine = line(in);
      if (statusLine == null) {
        throw new AssertionError("the server closed the connection without an answer");
      }
      int status = Integer.parseInt(statusLine.split(" ", 3)[1]);
      Map<String, String> headers = new java.util.HashMap<>();
      String line;
      while ((line = line(in)) != null && !line.isEmpty()) {
        int colon = line.indexOf(':');
        headers.put(
            line.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT),
            line.substring(colon + 1).trim());
      }
      byte[] body;
      if (headers.containsKey("content-length")) {
        body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
      } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        int size;
        while ((size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) > 0) {
          all.write(in.readNBytes(size));
          line(in);
        }
        line(in);
        body = all.toByteArray();
      } else {
        body = readToEnd(in);
      }
      return new Raw(status, headers, body);
    }

    private static String line(InputStream in) throws IOException {
      StringBuilder b = new StringBuilder();
      int c;
      while ((c = in.read()) != -1) {
        if (c == '\n') {
          int end = b.length();
          return end > 0 && b.charAt(end - 1) == '\r' ? b.substring(0, end - 1) : b.toString();
        }
        b.append((char) c);
      }
      return b.isEmpty() ? null : b.toString();
    }
  }
}
