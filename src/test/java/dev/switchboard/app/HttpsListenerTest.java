package dev.switchboard.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.TestCertificates;
import dev.switchboard.testing.TestCertificates.Identity;
import dev.switchboard.tls.ServerCertificate;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the HTTPS listener offers once Jetty has combined our settings with the JDK's: TLS 1.3 and
 * 1.2 only, and only forward-secret AEAD cipher suites.
 */
class HttpsListenerTest {
  @TempDir Path dir;

  @Test
  void offersTls13And12WithForwardSecretAeadSuitesOnly() throws Exception {
    for (String keyType : List.of("RSA", "EC")) {
      Identity ca = TestCertificates.ca(keyType);
      Identity server = TestCertificates.server(ca, keyType);
      ServerCertificate certificate =
          ServerCertificate.load(
              TestCertificates.writeCertificates(
                  dir.resolve(keyType + ".crt"), server.certificate(), ca.certificate()),
              TestCertificates.writePkcs8Key(dir.resolve(keyType + ".key"), server.privateKey()));
      SslContextFactory.Server factory = HttpsListener.contextFactory(certificate);
      factory.start();
      try {
        assertThat(factory.getSelectedProtocols()).containsExactly("TLSv1.3", "TLSv1.2");
        List<String> suites = Arrays.asList(factory.getSelectedCipherSuites());
        assertThat(suites)
            .contains("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384")
            .contains(
                keyType.equals("RSA")
                    ? "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
                    : "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
        assertThat(suites)
            .filteredOn(suite -> !suite.equals("TLS_EMPTY_RENEGOTIATION_INFO_SCSV")) // a signal
            .allSatisfy(
                suite ->
                    assertThat(suite)
                        .matches("TLS_(AES|CHACHA20)_.*|TLS_(ECDHE|DHE)_(RSA|ECDSA)_WITH_.*")
                        .containsAnyOf("_GCM_", "_CHACHA20_POLY1305_")
                        .doesNotContain("_CBC_", "_NULL_", "_anon_", "RC4", "3DES", "_EXPORT_")
                        .doesNotEndWith("_SHA")
                        .doesNotEndWith("_MD5"));
        assertThat(factory.isRenegotiationAllowed()).isFalse();
      } finally {
        factory.stop();
      }
    }
  }
}
