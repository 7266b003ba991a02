package dev.switchboard.destination.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.RateLimit;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.ingest.verify.StandardWebhooksVerifier;
import dev.switchboard.ingest.verify.Verdict;
import dev.switchboard.testing.DestinationConfigs;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.FakeDestination.Request;
import dev.switchboard.testing.MutableClock;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HttpDestinationIT {
  private static final String SECRET =
      "whsec_" + Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes());
  private static final String SIG = "pq7SECRETsig0123456789abcdefXYZ";
  private static final byte[] BODY =
      "{\"conversationId\":\"c-1\"}".getBytes(StandardCharsets.UTF_8);
  private static final StandardWebhooksVerifier SIGNER =
      new StandardWebhooksVerifier(List.of(), Duration.ofMinutes(5));

  private final FakeDestination fake = new FakeDestination();
  private final MutableClock clock = new MutableClock(Instant.parse("2025-06-01T10:00:00Z"));
  private final List<HttpDestination> destinations = new ArrayList<>();

  @AfterEach
  void closeAll() {
    destinations.forEach(HttpDestination::close);
    fake.close();
  }

  @Test
  void successfulSendCarriesMethodBodyAndHeaders() {
    HttpDestination destination =
        destination(
            fake.uri("/crm/events"),
            Map.of("method", "PUT", "headers", Map.of("X-Source", "switchboard")),
            Duration.ofSeconds(10));

    DeliveryResult result = destination.send(delivery("key-1", BODY));

    assertThat(result).isEqualTo(new Delivered(202, "{\"ok\":true}"));
    Request request = fake.requests().get(0);
    assertThat(request.method()).isEqualTo("PUT");
    assertThat(request.pathAndQuery()).isEqualTo("/crm/events");
    assertThat(request.body()).isEqualTo(BODY);
    assertThat(request.header("Content-Type")).isEqualTo("application/json");
    assertThat(request.header("Idempotency-Key")).isEqualTo("key-1");
    assertThat(request.header("User-Agent")).isEqualTo("switchboard");
    assertThat(request.header("X-Source")).isEqualTo("switchboard");
    assertThat(request.header("X-Trace")).isEqualTo("trace-1");
    assertThat(request.header("webhook-signature")).isNull();
  }

  @Test
  void configuredContentTypeReplacesTheDefault() {
    HttpDestination destination =
        destination(fake.uri("/x"), Map.of("headers", Map.of("content-type", "text/plain")), null);

    destination.send(delivery("key-1", BODY));

    assertThat(fake.requests().get(0).headers().get("content-type")).containsExactly("text/plain");
  }

  @Test
  void serverErrorIsRetriedLater() {
    fake.answer(Answer.status(500).body("boom"));

    DeliveryResult result = plain().send(delivery("key-1", BODY));

    assertThat(result)
        .isInstanceOfSatisfying(
            RetryLater.class,
            r -> {
              assertThat(r.status()).isEqualTo(500);
              assertThat(r.retryAfter()).isNull();
              assertThat(r.excerpt()).isEqualTo("boom");
            });
  }

  @Test
  void badRequestIsRejected() {
    fake.answer(Answer.status(400).body("{\"error\":\"schema\"}"));

    DeliveryResult result = plain().send(delivery("key-1", BODY));

    assertThat(result)
        .isInstanceOfSatisfying(
            Rejected.class,
            r -> {
              assertThat(r.status()).isEqualTo(400);
              assertThat(r.excerpt()).isEqualTo("{\"error\":\"schema\"}");
            });
  }

  @Test
  void tooManyRequestsIsRetriedAfterTheAskedDelay() {
    fake.answer(Answer.status(429).header("Retry-After", "7"));

    DeliveryResult result = plain().send(delivery("key-1", BODY));

    assertThat(result).isInstanceOf(RetryLater.class);
    assertThat(((RetryLater) result).status()).isEqualTo(429);
    assertThat(((RetryLater) result).retryAfter()).isEqualTo(Duration.ofSeconds(7));
  }

  @Test
  void redirectIsNotFollowed() {
    fake.answer(Answer.status(302).header("Location", fake.uri("/elsewhere").toString()));

    DeliveryResult result = plain().send(delivery("key-1", BODY));

    assertThat(result).isInstanceOf(Rejected.class);
    assertThat(fake.requests()).hasSize(1);
  }

  @Test
  void answerSlowerThanTheTimeoutIsRetriedLater() {
    fake.answer(Answer.status(200).after(Duration.ofSeconds(30)));
    HttpDestination destination = destination(fake.uri("/slow"), Map.of(), Duration.ofSeconds(1));

    long start = System.nanoTime();
    DeliveryResult result = destination.send(delivery("key-1", BODY));
    Duration took = Duration.ofNanos(System.nanoTime() - start);

    assertThat(result).isInstanceOf(RetryLater.class);
    assertThat(((RetryLater) result).error()).startsWith("timeout");
    assertThat(((RetryLater) result).status()).isZero();
    assertThat(took).isLessThan(Duration.ofSeconds(4));
  }

  @Test
  void keepAliveConnectionIsReusedAcrossAttempts() throws Exception {
    try (RawServer server =
        new RawServer(
            (in, out) -> {
              while (readRequest(in)) {
                out.write(ascii("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
                out.flush();
              }
            })) {
      HttpDestination destination =
          destination(server.uri("/hook"), Map.of(), Duration.ofSeconds(2));
      for (int i = 0; i < 5; i++) {
        assertThat(destination.send(delivery("key-" + i, BODY)))
            .isEqualTo(new Delivered(200, "ok"));
      }
      assertThat(server.connections()).isEqualTo(1);
    }
  }

  @Test
  void endlessAnswerIsCutToAnExcerptAndTheConnectionDropped() throws Exception {
    try (RawServer server =
        new RawServer(
            (in, out) -> {
              readRequest(in);
              out.write(ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
              byte[] chunk = ascii("400\r\n" + "x".repeat(0x400) + "\r\n");
              while (true) {
                out.write(chunk); // until the client hangs up
              }
            })) {
      HttpDestination destination =
          destination(server.uri("/hook"), Map.of(), Duration.ofSeconds(30));

      long start = System.nanoTime();
      DeliveryResult result = destination.send(delivery("key-1", BODY));

      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      assertThat(result)
          .isInstanceOfSatisfying(
              Delivered.class,
              d -> {
                assertThat(d.status()).isEqualTo(200);
                assertThat(d.excerpt()).startsWith("xxxx").endsWith("…").hasSize(501);
              });
      // the next attempt needs a new connection: the cut one was not put back in the pool
      destination.send(delivery("key-2", BODY));
      assertThat(server.connections()).isEqualTo(2);
    }
  }

  @Test
  void answerTricklingPastTheDeadlineEndsTheAttemptWithWhatArrived() throws Exception {
    try (RawServer server =
        new RawServer(
            (in, out) -> {
              readRequest(in);
              out.write(ascii("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1000\r\n\r\n"));
              out.flush();
              for (int i = 0; i < 1000; i++) {
                out.write('z');
                out.flush();
                Thread.sleep(100); // the fake trickles; nothing in the test waits on it
              }
            })) {
      HttpDestination destination =
          destination(server.uri("/hook"), Map.of("connect_timeout", "1s"), Duration.ofSeconds(1));

      long start = System.nanoTime();
      DeliveryResult result = destination.send(delivery("key-1", BODY));

      // connect timeout + request timeout bound the whole attempt, not each read
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
      assertThat(result)
          .isInstanceOfSatisfying(
              RetryLater.class,
              r -> {
                assertThat(r.status()).isEqualTo(503);
                assertThat(r.excerpt()).startsWith("z").hasSizeLessThan(40);
              });
    }
  }

  @Test
  void refusedConnectionIsRetriedLater() {
    FakeDestination gone = new FakeDestination();
    URI closedPort = gone.uri("/hook?sig=" + SIG);
    gone.close();

    DeliveryResult result =
        destination(closedPort, Map.of(), Duration.ofSeconds(2)).send(delivery("key-1", BODY));

    assertThat(result)
        .isInstanceOfSatisfying(
            RetryLater.class,
            r -> {
              assertThat(r.status()).isZero();
              assertThat(r.error()).doesNotContain("127.0.0.1", SIG);
            });
  }

  @Test
  void signedRequestVerifiesAndKeepsItsWebhookIdAcrossRetries() {
    fake.answer(Answer.status(503));
    HttpDestination destination =
        destination(
            fake.uri("/partner"),
            Map.of("sign", Map.of("scheme", "standard-webhooks", "secret", SECRET)),
            null);

    destination.send(delivery("key-42", BODY));
    clock.advance(Duration.ofMinutes(1));
    destination.send(delivery("key-42", BODY));

    var verifier = new StandardWebhooksVerifier(List.of(SECRET), Duration.ofMinutes(5));
    for (Request request : fake.requests()) {
      assertThat(verifier.verify(request::header, request.body(), clock.instant()))
          .isEqualTo(Verdict.OK);
      assertThat(request.header("webhook-id")).isEqualTo("key-42");
    }
    assertThat(fake.countByHeader("webhook-id")).containsExactly(Map.entry("key-42", 2L));
    assertThat(fake.requests())
        .extracting(r -> r.header("webhook-timestamp"))
        .containsExactly("1748772000", "1748772060");
  }

  @Test
  void malformedSigningSecretFailsAtConstruction() {
    Map<String, Object> sign = Map.of("scheme", "standard-webhooks", "secret", "whsec_%%%");

    assertThatThrownBy(() -> destination(fake.uri("/p"), Map.of("sign", sign), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("%%%");
  }

  @Test
  void signatureInTheUrlNeverReachesResultsOrTheSafeTarget() {
    String query = "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + SIG;
    fake.answer(
        Answer.status(401).body("{\"error\":{\"message\":\"bad /invoke" + query + "\"}}"),
        Answer.status(504).body("sig=" + SIG),
        Answer.status(200).after(Duration.ofSeconds(30)));
    HttpDestination destination =
        destination(
            fake.uri("/workflows/f1/triggers/manual/paths/invoke" + query),
            Map.of("preset", "power-automate"),
            Duration.ofSeconds(1));

    List<DeliveryResult> results = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      results.add(destination.send(delivery("key-" + i, BODY)));
    }

    assertThat(results)
        .extracting(Object::getClass)
        .containsExactly(Rejected.class, RetryLater.class, RetryLater.class);
    assertThat(results).allSatisfy(r -> assertThat(r.toString()).doesNotContain(SIG));
    assertThat(destination.settings().safeTarget())
        .isEqualTo(fake.uri("/workflows/f1/triggers/manual/paths/invoke").toString());
    assertThat(destination.settings().toString()).doesNotContain(SIG);
    assertThat(fake.requests().get(0).pathAndQuery()).endsWith("sig=" + SIG);
  }

  @Test
  void powerAutomatePresetWaitsTheFlowsTwoMinutesUnlessATimeoutIsSet() {
    var preset = Map.<String, Object>of("preset", "power-automate");

    assertThat(destination(fake.uri("/f"), preset, null).settings().timeout())
        .isEqualTo(Duration.ofSeconds(120));
    assertThat(destination(fake.uri("/f"), preset, Duration.ofSeconds(45)).settings().timeout())
        .isEqualTo(Duration.ofSeconds(45));
  }

  @Test
  void zapierPresetRejectsABodyOverTenMegabytesWithoutSendingIt() {
    HttpDestination destination =
        destination(fake.uri("/hooks/catch/1/abc/"), Map.of("preset", "zapier"), null);

    DeliveryResult result = destination.send(delivery("key-1", new byte[11 << 20]));

    assertThat(result).isEqualTo(new Rejected("body larger than zapier's 10 MB limit", 0, null));
    assertThat(fake.requests()).isEmpty();
    assertThat(destination.settings().presetRateLimit())
        .contains(new RateLimit(30, Duration.ofSeconds(1)));
    assertThat(plain().settings().presetRateLimit()).isEqualTo(Optional.empty());
  }

  private HttpDestination plain() {
    return destination(fake.uri("/hook"), Map.of(), null);
  }

  private HttpDestination destination(URI url, Map<String, Object> settings, Duration timeout) {
    Map<String, Object> all = new HashMap<>(settings);
    all.put("url", url.toString());
    DestinationConfig config = DestinationConfigs.load("crm-webhook", "http", all, timeout, 16);
    HttpDestination destination = new HttpDestination(config, clock, SIGNER::sign);
    destinations.add(destination);
    return destination;
  }

  private static OutboundDelivery delivery(String idempotencyKey, byte[] body) {
    return new OutboundDelivery(
        "dlv-1", "evt-1", idempotencyKey, null, body, Map.of("X-Trace", "trace-1"), 1);
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  /** Reads one request's head and its Content-Length body; false at the end of the stream. */
  private static boolean readRequest(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int c;
    while (!head.toString().endsWith("\r\n\r\n")) {
      if ((c = in.read()) < 0) {
        return false;
      }
      head.append((char) c);
    }
    Matcher length = Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(head.toString());
    if (length.find()) {
      in.readNBytes(Integer.parseInt(length.group(1)));
    }
    return true;
  }

  /**
   * A bare HTTP/1.1 server on 127.0.0.1 whose answers are written byte by byte by the test, for
   * what a well-behaved fake cannot do: endless and trickling bodies; counts accepted connections.
   */
  private static final class RawServer implements AutoCloseable {
    interface Conversation {
      void run(InputStream in, OutputStream out) throws Exception;
    }

    private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final AtomicInteger connections = new AtomicInteger();
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    RawServer(Conversation conversation) throws IOException {
      Thread.ofVirtual()
          .start(
              () -> {
                while (!socket.isClosed()) {
                  try {
                    Socket client = socket.accept();
                    connections.incrementAndGet();
                    open.add(client);
                    Thread.ofVirtual()
                        .start(
                            () -> {
                              try (client) {
                                conversation.run(client.getInputStream(), client.getOutputStream());
                              } catch (Exception e) {
                                // the client hung up or the test ended
                              }
                            });
                  } catch (IOException e) {
                    return;
                  }
                }
              });
    }

    URI uri(String path) {
      return URI.create("http://127.0.0.1:" + socket.getLocalPort() + path);
    }

    int connections() {
      return connections.get();
    }

    @Override
    public void close() throws IOException {
      socket.close();
      for (Socket client : open) {
        client.close();
      }
    }
  }
}
