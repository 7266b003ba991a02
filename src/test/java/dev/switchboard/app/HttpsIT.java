package dev.switchboard.app;

import static dev.switchboard.testing.GatewayFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import dev.switchboard.testing.TestCertificates;
import dev.switchboard.testing.TestCertificates.Identity;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * A gateway with {@code server.tls} over real HTTPS on 127.0.0.1: senders that trust its CA get
 * their events stored; plain HTTP, TLS 1.0 and TLS 1.1 get nothing; RSA and EC keys both serve; a
 * key that does not match keeps the gateway from starting.
 */
@Timeout(120)
class HttpsIT {
  static final String SECRET = "https-it-secret";
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SOURCES =
      """
      sources:
        dispositions:
          verify:
            scheme: hmac-sha256-hex
            header: X-Genesys-Signature
            secrets: ["${SECRET}"]
          idempotency: { key: interactionId }
      """;

  @TempDir static Path dir;
  static Identity ca;
  static GatewayFixture gw;
  static HttpClient client;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCertificates.ca("RSA");
    Identity server = TestCertificates.server(ca, "RSA");
    Path chain =
        TestCertificates.writeCertificates(
            dir.resolve("chain.pem"), server.certificate(), ca.certificate());
    Path key = TestCertificates.writePkcs8Key(dir.resolve("server.key"), server.privateKey());
    gw = startGateway(dir, chain, key, new MutableClock(Instant.now()));
    client = trusting(ca.certificate(), null);
  }

  @AfterAll
  static void stop() {
    if (gw != null) {
      gw.close();
    }
    if (client != null) {
      client.close();
    }
  }

  static GatewayFixture startGateway(Path folder, Path cert, Path key, MutableClock clock)
      throws Exception {
    return GatewayFixture.start(
        folder,
        "  tls: { cert: " + cert + ", key: " + key + " }\n",
        SOURCES,
        Map.of("SECRET", SECRET),
        clock);
  }

  /** A JDK client trusting only {@code ca} (not the code under test's trust helper). */
  static HttpClient trusting(X509Certificate ca, String onlyProtocol) throws Exception {
    KeyStore anchors = KeyStore.getInstance("PKCS12");
    anchors.load(null, null);
    anchors.setCertificateEntry("test-ca", ca);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(anchors);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    HttpClient.Builder builder =
        HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(5));
    if (onlyProtocol != null) {
      SSLParameters parameters = context.getDefaultSSLParameters();
      parameters.setProtocols(new String[] {onlyProtocol});
      builder.sslParameters(parameters);
    }
    return builder.build();
  }

  static URI https(GatewayFixture gateway, String path) {
    return URI.create("https://127.0.0.1:" + gateway.gateway().port() + path);
  }

  static HttpResponse<String> postSigned(HttpClient http, GatewayFixture gateway, String id)
      throws Exception {
    byte[] body = utf8("{\"interactionId\":\"" + id + "\",\"disposition\":{\"code\":\"SOLD\"}}");
    return http.send(
        HttpRequest.newBuilder(https(gateway, "/hooks/dispositions"))
            .timeout(Duration.ofSeconds(20))
            .header("Content-Type", "application/json")
            .header("X-Genesys-Signature", Hmac.sha256Hex(SECRET, body))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void signedEventOverHttpsIsAcceptedAndStored() throws Exception {
    HttpResponse<String> response = postSigned(client, gw, "int-https-1");

    assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
    assertThat(response.sslSession()).isPresent();
    assertThat(response.sslSession().get().getProtocol()).isEqualTo("TLSv1.3");
    String eventId = JSON.readTree(response.body()).path("eventId").asText();
    Event stored = gw.gateway().store().findEvent(new EventId(eventId)).orElseThrow();
    assertThat(stored.source()).isEqualTo("dispositions");
  }

  @Test
  void tls12ClientIsServedWithAForwardSecretAeadSuite() throws Exception {
    try (HttpClient tls12 = trusting(ca.certificate(), "TLSv1.2")) {
      HttpResponse<String> response =
          tls12.send(
              HttpRequest.newBuilder(https(gw, "/healthz")).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());

      assertThat(response.statusCode()).isEqualTo(200);
      SSLSession session = response.sslSession().orElseThrow();
      assertThat(session.getProtocol()).isEqualTo("TLSv1.2");
      assertThat(session.getCipherSuite()).startsWith("TLS_ECDHE_RSA_WITH_").contains("_GCM_");
    }
  }

  @Test
  void clientThatDoesNotTrustTheCaIsRefusedByItsOwnCheck() {
    try (HttpClient systemTrust = HttpClient.newBuilder().build()) {
      assertThatThrownBy(
              () ->
                  systemTrust.send(
                      HttpRequest.newBuilder(https(gw, "/healthz"))
                          .timeout(Duration.ofSeconds(10))
                          .build(),
                      HttpResponse.BodyHandlers.discarding()))
          .isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
    }
  }

  @Test
  void plainHttpOnTheHttpsPortGetsNoAnswer() throws Exception {
    Integer status = null;
    try (HttpClient plain = HttpClient.newBuilder().build()) {
      status =
          plain
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + gw.gateway().port() + "/healthz"))
                      .timeout(Duration.ofSeconds(10))
                      .build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode();
    } catch (IOException expected) {
      // the TLS layer drops a connection that does not start with a handshake
    }
    assertThat(status).as("status over plain HTTP").isNull();
  }

  @ParameterizedTest(name = "version 0x{0}")
  @ValueSource(strings = {"0301", "0302"})
  void tls10And11ClientHellosAreRefused(String version) throws Exception {
    int v = Integer.parseInt(version, 16);
    byte[] answer =
        firstRecord(clientHello(v, 0xC02F, 0xC013, 0x002F)); // ECDHE-RSA-GCM, ECDHE-RSA-CBC, RSA

    // a fatal protocol_version alert (or a closed connection), never a ServerHello
    if (answer.length > 0) {
      assertThat(answer[0]).as("record type: alert").isEqualTo((byte) 0x15);
      assertThat(answer).hasSize(7);
      assertThat(answer[5]).as("alert level: fatal").isEqualTo((byte) 2);
      assertThat(answer[6]).as("alert: protocol_version").isEqualTo((byte) 70);
    }
  }

  @Test
  void sameHandwrittenHelloForTls12GetsAServerHello() throws Exception {
    // the control for the test above: the hand-built hello is well formed
    byte[] answer = firstRecord(clientHello(0x0303, 0xC02F));

    assertThat(answer).isNotEmpty();
    assertThat(answer[0]).as("record type: handshake").isEqualTo((byte) 0x16);
    assertThat(answer[5]).as("handshake type: server_hello").isEqualTo((byte) 2);
  }

  @Test
  void ecKeyInSec1FormatServesHttpsAndTheLogsNameTheCertificateNotTheKey(@TempDir Path ecDir)
      throws Exception {
    Identity ecCa = TestCertificates.ca("EC");
    Identity ecServer = TestCertificates.server(ecCa, "EC");
    Path cert = TestCertificates.writeCertificates(ecDir.resolve("ec.crt"), ecServer.certificate());
    Path key = TestCertificates.writeTraditionalKey(ecDir.resolve("ec.key"), ecServer.keys());
    assertThat(Files.readString(key)).startsWith("-----BEGIN EC PRIVATE KEY-----");
    ListAppender<ILoggingEvent> logs = captureLogs();
    try (GatewayFixture ec = startGateway(ecDir, cert, key, new MutableClock(Instant.now()));
        HttpClient ecClient = trusting(ecCa.certificate(), null)) {
      HttpResponse<String> response = postSigned(ecClient, ec, "int-ec-1");

      assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
      assertThat(response.sslSession().orElseThrow().getPeerCertificates()[0].getPublicKey())
          .isEqualTo(ecServer.certificate().getPublicKey());
      assertThat(ec.gateway().store().countEvents()).isEqualTo(1);
    } finally {
      stopCapturing(logs);
    }
    String all = String.join("\n", messages(logs));
    assertThat(all).contains("HTTPS with certificate CN=localhost, valid until ");
    TestCertificates.assertNoKeyMaterial(all, key);
  }

  @Test
  void expiredCertificateStartsTheGatewayWithAWarningNamingTheDate(@TempDir Path oldDir)
      throws Exception {
    Instant now = Instant.now();
    Instant expiredOn = now.minus(Duration.ofDays(2));
    Identity expired =
        TestCertificates.server(ca, "RSA", now.minus(Duration.ofDays(90)), expiredOn);
    Path cert =
        TestCertificates.writeCertificates(oldDir.resolve("old.crt"), expired.certificate());
    Path key = TestCertificates.writePkcs8Key(oldDir.resolve("old.key"), expired.privateKey());
    ListAppender<ILoggingEvent> logs = captureLogs();
    try (GatewayFixture old = startGateway(oldDir, cert, key, new MutableClock(now))) {
      assertThat(old.gateway().port()).isPositive();
    } finally {
      stopCapturing(logs);
    }

    assertThat(logs.list)
        .filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
        .extracting(ILoggingEvent::getFormattedMessage)
        .anySatisfy(
            m ->
                assertThat(m)
                    .contains("expired on " + expired.certificate().getNotAfter().toInstant()));
  }

  @Test
  void keyReplacedAfterValidationKeepsTheGatewayFromStarting(@TempDir Path swapDir)
      throws Exception {
    Identity server = TestCertificates.server(ca, "RSA");
    Path cert =
        TestCertificates.writeCertificates(swapDir.resolve("tls.crt"), server.certificate());
    Path key = TestCertificates.writePkcs8Key(swapDir.resolve("tls.key"), server.privateKey());
    Path file =
        Files.writeString(
            swapDir.resolve("switchboard.yaml"),
            "server: { host: 127.0.0.1, port: 0, tls: { cert: tls.crt, key: tls.key } }\n"
                + "store: { path: "
                + swapDir.resolve("switchboard.db")
                + " }\n"
                + SOURCES);
    SwitchboardConfig config = ConfigLoader.load(file, Map.of("SECRET", SECRET));
    TestCertificates.writePkcs8Key(key, TestCertificates.keyPair("RSA").getPrivate());

    assertThatThrownBy(() -> Gateway.start(config, new MutableClock(Instant.now())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("server.tls.key: the private key in " + key)
        .hasMessageContaining("does not match the certificate CN=localhost in " + cert);
    assertThat(swapDir.resolve("switchboard.db"))
        .as("refused before the store opens")
        .doesNotExist();
  }

  // --- a TLS ClientHello written by hand, so the JDK client's own limits do not decide ---

  /**
   * A ClientHello record offering {@code version} and {@code suites}, with the usual extensions.
   */
  static byte[] clientHello(int version, int... suites) {
    ByteArrayOutputStream hello = new ByteArrayOutputStream();
    u16(hello, version);
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    hello.writeBytes(random);
    hello.write(0); // no session id
    u16(hello, suites.length * 2);
    for (int suite : suites) {
      u16(hello, suite);
    }
    hello.writeBytes(new byte[] {1, 0}); // compression: null only
    byte[] extensions = {
      0x00,
      0x0a,
      0x00,
      0x06,
      0x00,
      0x04,
      0x00,
      0x17,
      0x00,
      0x1d, // groups: P-256, X25519
      0x00,
      0x0b,
      0x00,
      0x02,
      0x01,
      0x00, // point formats: uncompressed
      0x00,
      0x0d,
      0x00,
      0x08,
      0x00,
      0x06,
      0x08,
      0x04,
      0x04,
      0x03,
      0x04,
      0x01 // signature algs
    };
    u16(hello, extensions.length);
    hello.writeBytes(extensions);
    byte[] body = hello.toByteArray();
    ByteArrayOutputStream record = new ByteArrayOutputStream();
    record.writeBytes(new byte[] {0x16, 0x03, 0x01}); // handshake record, TLS 1.0 framing
    u16(record, body.length + 4);
    record.write(1); // client_hello
    record.write(body.length >> 16);
    u16(record, body.length & 0xffff);
    record.writeBytes(body);
    return record.toByteArray();
  }

  private static void u16(ByteArrayOutputStream out, int value) {
    out.write((value >> 8) & 0xff);
    out.write(value & 0xff);
  }

  /** Sends {@code hello} and returns the server's first bytes (up to 7), or none if it closed. */
  static byte[] firstRecord(byte[] hello) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", gw.gateway().port()), 5_000);
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(hello);
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream answer = new ByteArrayOutputStream();
      try {
        for (int b; answer.size() < 7 && (b = in.read()) >= 0; ) {
          answer.write(b);
        }
      } catch (java.net.SocketException reset) {
        // a reset after the alert is as good as a close
      }
      return answer.toByteArray();
    }
  }

  // --- logs ---

  static ListAppender<ILoggingEvent> captureLogs() {
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    return logs;
  }

  static void stopCapturing(ListAppender<ILoggingEvent> logs) {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
  }

  static List<String> messages(ListAppender<ILoggingEvent> logs) {
    return logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }
}
