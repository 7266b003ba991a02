package dev.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.TestCertificates;
import dev.switchboard.testing.TestCertificates.Identity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code server.tls} at load time: the files are read and cross-checked, problems carry the line
 * and key at fault (the fixtures in {@code config/invalid/} cannot hold private keys, so the cases
 * needing one are here, with keys made at test time).
 */
class TlsSectionTest {
  static Identity ca;
  static Identity server;
  static Identity other;

  @TempDir Path dir;

  @BeforeAll
  static void issue() {
    ca = TestCertificates.ca("RSA");
    server = TestCertificates.server(ca, "RSA");
    other = TestCertificates.server(ca, "EC");
  }

  Path config(String tlsLines) throws Exception {
    return Files.writeString(
        dir.resolve("switchboard.yaml"),
        "server:\n"
            + "  port: 8443\n"
            + tlsLines
            + "sources:\n"
            + "  orders:\n"
            + "    verify: { scheme: none }\n");
  }

  @Test
  void pathsAreRelativeToTheConfigurationFile() throws Exception {
    Files.createDirectory(dir.resolve("certs"));
    TestCertificates.writeCertificates(
        dir.resolve("certs/chain.pem"), server.certificate(), ca.certificate());
    TestCertificates.writeTraditionalKey(dir.resolve("certs/server.key"), server.keys());
    Path file = config("  tls: { cert: certs/chain.pem, key: certs/server.key }\n");

    SwitchboardConfig loaded = ConfigLoader.load(file, Map.of());

    assertThat(loaded.server().tls())
        .isEqualTo(
            new ServerConfig.TlsConfig(
                dir.resolve("certs/chain.pem").toString(),
                dir.resolve("certs/server.key").toString()));
  }

  @Test
  void keyOfAnotherCertificateIsOneProblemAtTheKeysLine() throws Exception {
    TestCertificates.writeCertificates(dir.resolve("tls.crt"), server.certificate());
    TestCertificates.writePkcs8Key(dir.resolve("tls.key"), other.privateKey());
    Path file = config("  tls:\n    cert: tls.crt\n    key: tls.key\n");

    ConfigException e = ConfigLoaderTest.loadFailing(file, Map.of());

    assertThat(e.problems()).hasSize(1);
    ConfigProblem problem = e.problems().get(0);
    assertThat(problem.file()).isEqualTo(file.toString());
    assertThat(problem.line()).isEqualTo(5);
    assertThat(problem.path()).isEqualTo("server.tls.key");
    assertThat(problem.message())
        .isEqualTo(
            "the private key in "
                + dir.resolve("tls.key")
                + " (EC) does not match the certificate CN=localhost in "
                + dir.resolve("tls.crt")
                + " (RSA)");
    TestCertificates.assertNoKeyMaterial(e.getMessage(), dir.resolve("tls.key"));
  }

  @Test
  void keyFileGivenAsCertificateAndTheOtherWayRoundIsTwoProblems() throws Exception {
    TestCertificates.writeCertificates(dir.resolve("tls.crt"), server.certificate());
    TestCertificates.writePkcs8Key(dir.resolve("tls.key"), server.privateKey());
    Path file = config("  tls:\n    cert: tls.key\n    key: tls.crt\n");

    ConfigException e = ConfigLoaderTest.loadFailing(file, Map.of());

    assertThat(e.problems())
        .extracting(ConfigProblem::line, ConfigProblem::path)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(4, "server.tls.cert"),
            org.assertj.core.groups.Tuple.tuple(5, "server.tls.key"));
    assertThat(e.problems().get(0).message())
        .contains("holds no certificate (found a private key)");
    assertThat(e.problems().get(1).message())
        .contains("holds no private key (found a certificate)");
  }
}
