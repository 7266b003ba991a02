package dev.switchboard.ingest.verify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.VerifyConfig;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** HMAC schemes and the Genesys presets, checked against MACs computed here with javax.crypto. */
class HmacVerifierTest {

  static final Instant NOW = Instant.parse("2026-03-01T10:15:30Z");
  static final String SECRET = "outboundNotificationWebhookSignatureSecretToken-value";
  // Deliberately not canonical JSON: Genesys's sample re-serialises, we must not.
  static final byte[] BODY =
      "{\"id\": \"0f1e2d3c4b5a69788796a5b4c3d2e1f0\",  \"type\":\"Text\",\"text\":\"hi\"}\n"
          .getBytes(StandardCharsets.UTF_8);

  @Test
  void genesysOpenMessagingAcceptsABase64Sha256MacWithItsPrefix() throws Exception {
    SignatureVerifier verifier = preset("genesys-open-messaging", null, null);
    String header = "sha256=" + Base64.getEncoder().encodeToString(mac("HmacSHA256", BODY));

    Verdict verdict = verifier.verify(lookup("X-Hub-Signature-256", header), BODY, NOW);

    assertThat(verdict).isEqualTo(Verdict.OK);
    assertThat(verifier.secretHeaders()).containsExactly("x-hub-signature-256");
  }

  @Test
  void genesysMulticloudAcceptsAHexSha1MacWithItsPrefix() throws Exception {
    SignatureVerifier verifier = preset("genesys-multicloud", null, null);
    String header = "sha1=" + HexFormat.of().formatHex(mac("HmacSHA1", BODY));

    Verdict verdict = verifier.verify(lookup("X-Hub-Signature", header), BODY, NOW);

    assertThat(verdict).isEqualTo(Verdict.OK);
    assertThat(verifier.secretHeaders()).containsExactly("x-hub-signature");
  }

  @Test
  void genesysOpenMessagingSignsExactlyWhatGenesysSends() throws Exception {
    SignatureVerifier verifier = preset("genesys-open-messaging", null, null);

    Map<String, String> headers = verifier.sign(BODY, SECRET, NOW, null);

    assertThat(headers)
        .containsExactly(
            Map.entry(
                "X-Hub-Signature-256",
                "sha256=" + Base64.getEncoder().encodeToString(mac("HmacSHA256", BODY))));
  }

  @Test
  void theOpenMessagingSignatureOfReserialisedJsonDoesNotMatchTheRawBody() throws Exception {
    SignatureVerifier verifier = preset("genesys-open-messaging", null, null);
    byte[] reserialised =
        "{\"id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\",\"type\":\"Text\",\"text\":\"hi\"}"
            .getBytes(StandardCharsets.UTF_8);
    String header = "sha256=" + Base64.getEncoder().encodeToString(mac("HmacSHA256", reserialised));

    Verdict verdict = verifier.verify(lookup("X-Hub-Signature-256", header), BODY, NOW);

    assertThat(verdict).isInstanceOf(Verdict.Rejected.class);
  }

  @Test
  void anExplicitHeaderAndPrefixOverrideThePresets() throws Exception {
    SignatureVerifier verifier = preset("genesys-open-messaging", "X-Relay-Signature", "");
    String bare = Base64.getEncoder().encodeToString(mac("HmacSHA256", BODY));

    assertThat(verifier.verify(lookup("X-Relay-Signature", bare), BODY, NOW)).isEqualTo(Verdict.OK);
    assertThat(verifier.verify(lookup("X-Hub-Signature-256", "sha256=" + bare), BODY, NOW))
        .isInstanceOf(Verdict.Rejected.class);
  }

  @Test
  void hexSignaturesAreComparedCaseInsensitively() throws Exception {
    SignatureVerifier verifier = scheme("hmac-sha256-hex", "X-Genesys-Signature", null);
    String upper = HexFormat.of().formatHex(mac("HmacSHA256", BODY)).toUpperCase(Locale.ROOT);

    assertThat(verifier.verify(lookup("X-Genesys-Signature", upper), BODY, NOW))
        .isEqualTo(Verdict.OK);
  }

  @Test
  void theDefaultHeaderIsXSignatureWithoutAPrefix() throws Exception {
    SignatureVerifier verifier = scheme("hmac-sha256-hex", null, null);
    String hex = HexFormat.of().formatHex(mac("HmacSHA256", BODY));

    assertThat(verifier.verify(lookup("X-Signature", hex), BODY, NOW)).isEqualTo(Verdict.OK);
    assertThat(verifier.sign(BODY, SECRET, NOW, null))
        .containsExactly(Map.entry("X-Signature", hex));
  }

  @Test
  void aSignatureWithoutTheConfiguredPrefixIsRejectedAsInvalid() throws Exception {
    SignatureVerifier verifier = scheme("hmac-sha256-hex", "X-Signature", "sha256=");
    String hex = HexFormat.of().formatHex(mac("HmacSHA256", BODY));

    assertThat(verifier.verify(lookup("X-Signature", hex), BODY, NOW))
        .isEqualTo(
            new Verdict.Rejected(
                Verdict.SIGNATURE_INVALID, "the X-Signature header does not start with sha256="));
  }

  @Test
  void aSignatureThatIsNotHexIsRejectedAsInvalid() {
    SignatureVerifier verifier = scheme("hmac-sha1-hex", null, null);

    Verdict verdict = verifier.verify(lookup("X-Signature", "zz-not-hex"), BODY, NOW);

    assertThat(verdict)
        .isInstanceOfSatisfying(
            Verdict.Rejected.class, r -> assertThat(r.code()).isEqualTo(Verdict.SIGNATURE_INVALID));
  }

  @Test
  void aSha1MacIsNotAcceptedWhereSha256IsConfigured() throws Exception {
    SignatureVerifier verifier = scheme("hmac-sha256-hex", null, null);
    String sha1 = HexFormat.of().formatHex(mac("HmacSHA1", BODY));

    assertThat(verifier.verify(lookup("X-Signature", sha1), BODY, NOW))
        .isInstanceOf(Verdict.Rejected.class);
  }

  @Test
  void manyThreadsCanVerifyWithOneVerifierAtOnce() throws Exception {
    SignatureVerifier verifier = preset("genesys-open-messaging", null, null);
    HeaderLookup good = HeaderLookup.of(verifier.sign(BODY, SECRET, NOW, null));
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      List<Future<Verdict>> verdicts =
          IntStream.range(0, 2_000)
              .mapToObj(i -> pool.submit(() -> verifier.verify(good, BODY, NOW)))
              .toList();
      for (Future<Verdict> verdict : verdicts) {
        assertThat(verdict.get()).isEqualTo(Verdict.OK);
      }
    }
  }

  private static byte[] mac(String algorithm, byte[] body) throws Exception {
    Mac mac = Mac.getInstance(algorithm);
    mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), algorithm));
    return mac.doFinal(body);
  }

  private static HeaderLookup lookup(String name, String value) {
    return HeaderLookup.of(Map.of(name, value));
  }

  private static SignatureVerifier preset(String preset, String header, String prefix) {
    return SignatureVerifiers.create(
        new VerifyConfig(null, preset, header, prefix, List.of("other-secret", SECRET), null));
  }

  private static SignatureVerifier scheme(String scheme, String header, String prefix) {
    return SignatureVerifiers.create(
        new VerifyConfig(scheme, null, header, prefix, List.of(SECRET), null));
  }
}
