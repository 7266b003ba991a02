package dev.switchboard.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.testing.TestCertificates;
import dev.switchboard.testing.TestCertificates.Identity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reading the listener's PEM files: the formats operators bring, and every way they go wrong. */
class ServerCertificateTest {
  static Identity rsaCa;
  static Identity rsaServer;
  static Identity otherRsaServer;

  @TempDir Path dir;

  @BeforeAll
  static void issue() {
    rsaCa = TestCertificates.ca("RSA");
    rsaServer = TestCertificates.server(rsaCa, "RSA");
    otherRsaServer = TestCertificates.server(rsaCa, "RSA");
  }

  Path chain(Identity server, Identity ca) throws Exception {
    return TestCertificates.writeCertificates(
        dir.resolve("chain.pem"), server.certificate(), ca.certificate());
  }

  @Test
  void rsaKeyReadsAsPkcs8AndAsPkcs1() throws Exception {
    Path chain = chain(rsaServer, rsaCa);
    Path pkcs8 = TestCertificates.writePkcs8Key(dir.resolve("pkcs8.key"), rsaServer.privateKey());
    Path pkcs1 = TestCertificates.writeTraditionalKey(dir.resolve("pkcs1.key"), rsaServer.keys());
    assertThat(Files.readString(pkcs8)).startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(Files.readString(pkcs1)).startsWith("-----BEGIN RSA PRIVATE KEY-----");

    for (Path key : List.of(pkcs8, pkcs1)) {
      ServerCertificate loaded = ServerCertificate.load(chain, key);
      assertThat(loaded.chain()).containsExactly(rsaServer.certificate(), rsaCa.certificate());
      assertThat(loaded.leaf()).isEqualTo(rsaServer.certificate());
    }
  }

  @Test
  void ecKeyReadsAsPkcs8AndAsSec1WithItsParametersBlock() throws Exception {
    Identity ecCa = TestCertificates.ca("EC");
    Identity ecServer = TestCertificates.server(ecCa, "EC");
    Path chain = chain(ecServer, ecCa);
    Path pkcs8 = TestCertificates.writePkcs8Key(dir.resolve("ec8.key"), ecServer.privateKey());
    Path sec1 = TestCertificates.writeTraditionalKey(dir.resolve("ec.key"), ecServer.keys());
    assertThat(Files.readString(sec1)).startsWith("-----BEGIN EC PRIVATE KEY-----");
    // `openssl ecparam -genkey` writes the curve's name before the key
    Files.writeString(
        sec1,
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
            + Files.readString(sec1));

    for (Path key : List.of(pkcs8, sec1)) {
      assertThat(ServerCertificate.load(chain, key).leaf()).isEqualTo(ecServer.certificate());
    }
  }

  @Test
  void oneCombinedFileServesAsCertificateAndKey() throws Exception {
    Path combined = chain(rsaServer, rsaCa);
    Files.writeString(
        combined, TestCertificates.pkcs8(rsaServer.privateKey()) + Files.readString(combined));

    ServerCertificate loaded = ServerCertificate.load(combined, combined);

    assertThat(loaded.chain()).hasSize(2);
  }

  @Test
  void keyOfAnotherCertificateIsRefusedNamingBothFilesAndNoKeyMaterial() throws Exception {
    Path chain = chain(rsaServer, rsaCa);
    Path key =
        TestCertificates.writePkcs8Key(dir.resolve("other.key"), otherRsaServer.privateKey());

    assertThatThrownBy(() -> ServerCertificate.load(chain, key))
        .isInstanceOf(PemFileException.class)
        .satisfies(e -> assertThat(((PemFileException) e).file()).isEqualTo(key))
        .hasMessageContaining("the private key in " + key)
        .hasMessageContaining("does not match the certificate CN=localhost in " + chain)
        .satisfies(e -> TestCertificates.assertNoKeyMaterial(e.getMessage(), key));
  }

  @Test
  void ecKeyForAnRsaCertificateIsAMismatchToo() throws Exception {
    Path chain = chain(rsaServer, rsaCa);
    Path key =
        TestCertificates.writePkcs8Key(
            dir.resolve("ec.key"), TestCertificates.keyPair("EC").getPrivate());

    assertThatThrownBy(() -> ServerCertificate.load(chain, key))
        .hasMessageContaining("(EC) does not match")
        .hasMessageContaining("(RSA)");
  }

  @Test
  void chainInTheWrongOrderSaysWhichCertificateTheKeyBelongsTo() throws Exception {
    Path chain =
        TestCertificates.writeCertificates(
            dir.resolve("reversed.pem"), rsaCa.certificate(), rsaServer.certificate());
    Path key = TestCertificates.writePkcs8Key(dir.resolve("server.key"), rsaServer.privateKey());

    assertThatThrownBy(() -> ServerCertificate.load(chain, key))
        .hasMessageContaining("belongs to certificate 2 in " + chain)
        .hasMessageContaining("put the gateway's own certificate first");
  }

  @Test
  void missingFileIsNamed() throws Exception {
    Path key = TestCertificates.writePkcs8Key(dir.resolve("server.key"), rsaServer.privateKey());
    Path missing = dir.resolve("nowhere.pem");

    assertThatThrownBy(() -> ServerCertificate.load(missing, key))
        .isInstanceOf(PemFileException.class)
        .hasMessage("certificate file " + missing + " does not exist");
    assertThatThrownBy(() -> ServerCertificate.load(chain(rsaServer, rsaCa), missing))
        .hasMessage("key file " + missing + " does not exist");
  }

  @Test
  void directoryInsteadOfAFileIsNamed() throws Exception {
    Path folder = Files.createDirectory(dir.resolve("certs"));

    assertThatThrownBy(() -> ServerCertificate.load(chain(rsaServer, rsaCa), folder))
        .hasMessage("key file " + folder + " is a directory, not a file");
  }

  @Test
  void jsonAndDerAreNotPem() throws Exception {
    Path json = Files.writeString(dir.resolve("cert.json"), "{\"certificate\": \"no\"}");
    Path der = Files.write(dir.resolve("cert.der"), rsaServer.certificate().getEncoded());
    Path key = TestCertificates.writePkcs8Key(dir.resolve("server.key"), rsaServer.privateKey());

    for (Path notPem : List.of(json, der)) {
      assertThatThrownBy(() -> ServerCertificate.load(notPem, key))
          .hasMessageStartingWith("certificate file " + notPem + " is not PEM")
          .hasMessageContaining("openssl x509 -inform der");
      assertThatThrownBy(() -> ServerCertificate.load(chain(rsaServer, rsaCa), notPem))
          .hasMessageStartingWith("key file " + notPem + " is not PEM");
    }
  }

  @Test
  void certificateAndKeyInTheWrongPlacesAreNamedForWhatTheyHold() throws Exception {
    Path chain = chain(rsaServer, rsaCa);
    Path key = TestCertificates.writePkcs8Key(dir.resolve("server.key"), rsaServer.privateKey());

    assertThatThrownBy(() -> ServerCertificate.load(key, chain))
        .hasMessage(
            "certificate file "
                + key
                + " holds no certificate (found a private key):"
                + " expected -----BEGIN CERTIFICATE-----");
    assertThatThrownBy(() -> ServerCertificate.load(chain, chain))
        .hasMessage(
            "key file "
                + chain
                + " holds no private key (found a certificate):"
                + " expected -----BEGIN PRIVATE KEY-----");
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void encryptedKeyIsRefusedWithHowToDecryptIt(boolean pkcs8) throws Exception {
    Path key =
        TestCertificates.writeEncryptedKey(
            dir.resolve("encrypted.key"), rsaServer.privateKey(), "pa55word".toCharArray(), pkcs8);
    assertThat(Files.readString(key))
        .contains(pkcs8 ? "-----BEGIN ENCRYPTED PRIVATE KEY-----" : "Proc-Type: 4,ENCRYPTED");

    assertThatThrownBy(() -> ServerCertificate.load(chain(rsaServer, rsaCa), key))
        .hasMessageContaining("the private key in " + key + " is encrypted")
        .hasMessageContaining("openssl pkey");
  }

  @ParameterizedTest
  @ValueSource(strings = {"PRIVATE KEY", "RSA PRIVATE KEY"})
  void damagedKeyIsReportedWithoutQuotingIt(String type) throws Exception {
    String pem =
        type.equals("PRIVATE KEY")
            ? TestCertificates.pkcs8(rsaServer.privateKey())
            : Files.readString(
                TestCertificates.writeTraditionalKey(dir.resolve("t.key"), rsaServer.keys()));
    List<String> lines = pem.lines().toList();
    // keep the armour and the first body lines, cut the rest: valid base64, truncated DER
    String damaged =
        String.join("\n", lines.subList(0, 6)) + "\n" + lines.get(lines.size() - 1) + "\n";
    Path key = Files.writeString(dir.resolve("damaged.key"), damaged);

    assertThatThrownBy(() -> ServerCertificate.load(chain(rsaServer, rsaCa), key))
        .isInstanceOf(PemFileException.class)
        .hasMessageContaining(key.toString())
        .satisfies(e -> TestCertificates.assertNoKeyMaterial(e.getMessage(), key));
  }

  @Test
  void validityWarningSaysWhenTheCertificateExpiredOrExpiresSoon() {
    Instant now = Instant.parse("2026-10-27T14:30:00Z");
    Identity expired =
        TestCertificates.server(
            rsaCa, "EC", now.minus(Duration.ofDays(90)), Instant.parse("2026-10-01T00:00:00Z"));
    Identity soon =
        TestCertificates.server(
            rsaCa, "EC", now.minus(Duration.ofDays(80)), now.plus(Duration.ofDays(3)));
    Identity future =
        TestCertificates.server(
            rsaCa, "EC", now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(90)));
    Identity fine =
        TestCertificates.server(
            rsaCa, "EC", now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(60)));

    assertThat(ServerCertificate.validityWarning(expired.certificate(), now))
        .hasValueSatisfying(
            w -> assertThat(w).contains("CN=localhost expired on 2026-10-01T00:00:00Z"));
    assertThat(ServerCertificate.validityWarning(soon.certificate(), now))
        .hasValueSatisfying(w -> assertThat(w).contains("expires on").contains("replace it"));
    assertThat(ServerCertificate.validityWarning(future.certificate(), now))
        .hasValueSatisfying(w -> assertThat(w).contains("is not valid until"));
    assertThat(ServerCertificate.validityWarning(fine.certificate(), now)).isEmpty();
  }

  @Test
  void keyStoreHoldsTheKeyAndTheWholeChainAndToStringShowsNoKey() throws Exception {
    Path key = TestCertificates.writePkcs8Key(dir.resolve("server.key"), rsaServer.privateKey());
    ServerCertificate loaded = ServerCertificate.load(chain(rsaServer, rsaCa), key);
    char[] password = "in-memory".toCharArray();

    KeyStore store = loaded.keyStore(password);

    assertThat(store.getKey("switchboard", password)).isEqualTo(rsaServer.privateKey());
    Certificate[] chain = store.getCertificateChain("switchboard");
    assertThat(Arrays.asList(chain)).containsExactly(rsaServer.certificate(), rsaCa.certificate());
    assertThat(loaded.toString()).startsWith("ServerCertificate[CN=localhost, valid until ");
    TestCertificates.assertNoKeyMaterial(loaded.toString(), key);
  }
}
