package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.cli.AdminCliIT.Run;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import dev.switchboard.testing.TestCertificates;
import dev.switchboard.testing.TestCertificates.Identity;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands that call a gateway ({@code send}, {@code emulate}, the admin commands) against one
 * that serves HTTPS with a private CA: {@code --ca-cert} makes them work, without it they say how
 * to fix it, {@code --insecure} works with a warning. And the packaged jar serves HTTPS and says
 * so, and {@code validate} warns about an expired certificate.
 */
@Timeout(180)
class HttpsCliIT {
  static final String TOKEN = "https-cli-t0ken";
  static final String SECRET = "https-cli-secret";

  @TempDir static Path dir;
  static Identity ca;
  static Path caFile;
  static Path chainFile;
  static Path keyFile;
  static GatewayFixture gw;

  @BeforeAll
  static void start() throws Exception {
    ca = TestCertificates.ca("RSA");
    Identity server = TestCertificates.server(ca, "RSA");
    caFile = TestCertificates.writeCertificates(dir.resolve("ca.pem"), ca.certificate());
    chainFile =
        TestCertificates.writeCertificates(
            dir.resolve("chain.pem"), server.certificate(), ca.certificate());
    keyFile = TestCertificates.writePkcs8Key(dir.resolve("server.key"), server.privateKey());
    // literal values, no ${VAR}: emulate reads this same file with the process environment
    String yaml =
        """
        admin: { token: %s }
        sources:
          calls:
            verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: [%s] }
        """
            .formatted(TOKEN, SECRET);
    gw =
        GatewayFixture.start(
            dir,
            "  tls: { cert: chain.pem, key: server.key }\n",
            yaml,
            Map.of(),
            new MutableClock(Instant.now()));
  }

  @AfterAll
  static void stop() {
    if (gw != null) {
      gw.close();
    }
  }

  static String base() {
    return "https://127.0.0.1:" + gw.gateway().port();
  }

  static Run send(String body, String... tlsArgs) throws Exception {
    Path file = Files.writeString(Files.createTempFile(dir, "event", ".json"), body);
    List<String> args =
        new ArrayList<>(
            List.of(
                "send",
                "--url",
                base() + "/hooks/calls",
                "--file",
                file.toString(),
                "--header",
                "X-Genesys-Signature",
                "--secret",
                SECRET));
    args.addAll(List.of(tlsArgs));
    return AdminCliIT.raw(args.toArray(String[]::new));
  }

  static Run admin(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--url", base(), "--token", TOKEN));
    return AdminCliIT.raw(all.toArray(String[]::new));
  }

  @Test
  void sendTrustingTheCaCertIsAcceptedAndStored() throws Exception {
    long before = gw.gateway().store().countEvents();

    Run run = send("{\"interactionId\":\"send-ca-1\"}", "--ca-cert", caFile.toString());

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(gw.gateway().store().countEvents()).isEqualTo(before + 1);
  }

  @Test
  void sendWithoutTheCaCertFailsTheHandshakeAndStoresNothing() throws Exception {
    long before = gw.gateway().store().countEvents();

    Run run = send("{\"interactionId\":\"send-no-ca\"}");

    assertThat(run.exit()).isEqualTo(3);
    assertThat(gw.gateway().store().countEvents()).isEqualTo(before);
  }

  @Test
  void sendInsecureWorksAndWarns() throws Exception {
    Run run = send("{\"interactionId\":\"send-insecure\"}", "--insecure");

    assertThat(run.exit()).isZero();
    assertThat(run.err()).contains("warning: --insecure: the gateway's certificate is not checked");
  }

  @Test
  void adminCommandsTrustTheCaCert() throws Exception {
    send("{\"interactionId\":\"for-search\"}", "--ca-cert", caFile.toString());

    Run run =
        admin("events", "search", "--text", "for-search", "--json", "--ca-cert", caFile.toString());

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.json().path("items")).hasSize(1);
  }

  @Test
  void adminCommandWithoutTheCaCertSaysHowToFixIt() {
    Run run = admin("destinations", "list");

    assertThat(run.exit()).isEqualTo(AdminClient.EXIT_UNREACHABLE);
    assertThat(run.err()).contains("TLS handshake failed").contains("pass --ca-cert FILE");
  }

  @Test
  void plainHttpUrlToTheHttpsGatewaySaysToUseHttps() throws Exception {
    Run run =
        AdminCliIT.raw(
            "destinations",
            "list",
            "--url",
            "http://127.0.0.1:" + gw.gateway().port(),
            "--token",
            TOKEN);

    assertThat(run.exit()).isEqualTo(AdminClient.EXIT_UNREACHABLE);
    assertThat(run.err()).contains("if the gateway serves HTTPS, use an https:// URL");
    Path file = Files.writeString(dir.resolve("plain.json"), "{\"interactionId\":\"plain\"}");
    Run send =
        AdminCliIT.raw(
            "send",
            "--url",
            "http://127.0.0.1:" + gw.gateway().port() + "/hooks/calls",
            "--file",
            file.toString(),
            "--header",
            "X-Genesys-Signature",
            "--secret",
            SECRET);
    assertThat(send.exit()).isEqualTo(3);
  }

  @Test
  void adminCommandInsecureWorksAndWarns() {
    Run run = admin("destinations", "list", "--insecure");

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.err()).contains("warning: --insecure");
  }

  @Test
  void missingCaCertFileIsAUsageErrorNamingTheFile() {
    Path missing = dir.resolve("no-such-ca.pem");

    Run run = admin("destinations", "list", "--ca-cert", missing.toString());

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("--ca-cert: certificate file " + missing + " does not exist");
  }

  @Test
  void emulateTrustingTheCaCertGetsEveryEventAccepted() throws Exception {
    long before = gw.gateway().store().countEvents();

    Run run =
        AdminCliIT.raw(
            "emulate",
            "--config",
            dir.resolve("switchboard.yaml").toString(),
            "--source",
            "calls",
            "--url",
            base(),
            "--count",
            "3",
            "--rate",
            "50/s",
            "--retry",
            "none",
            "--json",
            "--ca-cert",
            caFile.toString());

    assertThat(run.exit()).isZero();
    assertThat(gw.gateway().store().countEvents()).isEqualTo(before + 3);
  }

  @Test
  void packagedJarServesHttpsAndSaysSo(@TempDir Path childDir) throws Exception {
    int port = ChildGateway.freePort();
    Path config =
        Files.writeString(
            childDir.resolve("switchboard.yaml"),
            """
            server:
              host: 127.0.0.1
              port: ${PORT}
              tls: { cert: %s, key: %s }
            store: { path: %s }
            sources:
              calls:
                verify: { scheme: hmac-sha256-hex, secrets: ["${SECRET}"] }
            """
                .formatted(chainFile, keyFile, childDir.resolve("child.db")));
    Process child = ChildGateway.start(childDir, config, port, SECRET, "https");
    try (HttpClient client = trustingCa()) {
      HttpRequest ready =
          HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/readyz"))
              .timeout(Duration.ofSeconds(2))
              .build();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .ignoreExceptions()
          .until(
              () -> client.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
      assertThat(Files.readString(childDir.resolve("child-https.log")))
          .contains("switchboard serving on https://127.0.0.1:" + port + "/hooks/{source}");
    } finally {
      child.destroy();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).as("the child stops").isTrue();
    }
  }

  @Test
  void validateWarnsAboutAnExpiredCertificateButPasses(@TempDir Path oldDir) throws Exception {
    Instant now = Instant.now();
    Identity expired =
        TestCertificates.server(
            ca, "RSA", now.minus(Duration.ofDays(400)), now.minus(Duration.ofDays(5)));
    TestCertificates.writeCertificates(oldDir.resolve("old.crt"), expired.certificate());
    TestCertificates.writePkcs8Key(oldDir.resolve("old.key"), expired.privateKey());
    Path config =
        Files.writeString(
            oldDir.resolve("switchboard.yaml"),
            """
            server: { tls: { cert: old.crt, key: old.key } }
            sources:
              calls:
                verify: { scheme: none }
            """);
    String jar = System.getProperty("switchboard.jar", "target/switchboard.jar");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(java, "-Xmx128m", "-jar", jar, "validate", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(oldDir.resolve("validate.out").toFile())
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("validate ends").isTrue();
    String out = Files.readString(oldDir.resolve("validate.out"), StandardCharsets.UTF_8);

    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out)
        .contains(config + ": OK")
        .contains(
            "warning: server.tls.cert: the certificate CN=localhost expired on "
                + expired.certificate().getNotAfter().toInstant());
  }

  static HttpClient trustingCa() throws Exception {
    KeyStore anchors = KeyStore.getInstance("PKCS12");
    anchors.load(null, null);
    anchors.setCertificateEntry("test-ca", ca.certificate());
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(anchors);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(context).build();
  }
}
