package dev.switchboard.ingest.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.config.VerifyConfig;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Behaviour every scheme and preset shares: round trips, rotation, rejections and their codes. */
class SignatureVerifiersTest {

  static final Instant NOW = Instant.parse("2026-03-01T10:15:30Z");
  static final byte[] BODY =
      "{\"conversationId\":\"c-1\",\"wrapupCode\":\"sale\"}".getBytes(StandardCharsets.UTF_8);

  static final String WHSEC_FIRST = whsec("first standard-webhooks key");
  static final String WHSEC_SECOND = whsec("second standard-webhooks key");
  static final String WHSEC_WRONG = whsec("some other sender's key");

  /**
   * One configured source: two secrets (the second shows rotation), a secret it does not accept,
   * and the codes it answers with.
   */
  record Case(
      String label,
      VerifyConfig config,
      String first,
      String second,
      String wrong,
      String missingCode,
      String invalidCode,
      boolean signsBody) {

    @Override
    public String toString() {
      return label;
    }
  }

  static Stream<Case> cases() {
    String sigMissing = Verdict.SIGNATURE_MISSING;
    String sigInvalid = Verdict.SIGNATURE_INVALID;
    String credMissing = Verdict.CREDENTIALS_MISSING;
    String credInvalid = Verdict.CREDENTIALS_INVALID;
    return Stream.of(
        hmac("hmac-sha256-hex", null, null),
        hmac("hmac-sha256-hex", "X-Genesys-Signature", "sha256="),
        hmac("hmac-sha256-base64", null, null),
        hmac("hmac-sha1-hex", "X-PureCloud-Signature", null),
        new Case(
            "standard-webhooks",
            scheme("standard-webhooks", null, null, WHSEC_FIRST, WHSEC_SECOND),
            WHSEC_FIRST,
            WHSEC_SECOND,
            WHSEC_WRONG,
            sigMissing,
            sigInvalid,
            true),
        new Case(
            "basic",
            scheme("basic", null, null, "genesys:first-password", "genesys:second-password"),
            "genesys:first-password",
            "genesys:second-password",
            "genesys:guessed-password",
            credMissing,
            credInvalid,
            false),
        new Case(
            "bearer",
            scheme("bearer", null, null, "first-token", "second-token"),
            "first-token",
            "second-token",
            "guessed-token",
            credMissing,
            credInvalid,
            false),
        new Case(
            "api-key",
            scheme("api-key", null, null, "first-key", "second-key"),
            "first-key",
            "second-key",
            "guessed-key",
            credMissing,
            credInvalid,
            false),
        new Case(
            "genesys-open-messaging",
            preset("genesys-open-messaging", null, "om-first-secret", "om-second-secret"),
            "om-first-secret",
            "om-second-secret",
            "om-guessed-secret",
            sigMissing,
            sigInvalid,
            true),
        new Case(
            "genesys-multicloud",
            preset("genesys-multicloud", null, "mc-first-secret", "mc-second-secret"),
            "mc-first-secret",
            "mc-second-secret",
            "mc-guessed-secret",
            sigMissing,
            sigInvalid,
            true),
        new Case(
            "genesys-data-action (basic)",
            preset("genesys-data-action", null, "architect:first", "architect:second"),
            "architect:first",
            "architect:second",
            "architect:guess",
            credMissing,
            credInvalid,
            false),
        new Case(
            "genesys-data-action (api key)",
            preset("genesys-data-action", "X-Switchboard-Key", "da-first-key", "da-second-key"),
            "da-first-key",
            "da-second-key",
            "da-guessed-key",
            credMissing,
            credInvalid,
            false));
  }

  static Stream<Case> bodySigningCases() {
    return cases().filter(Case::signsBody);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void headersSignedWithTheFirstSecretAreAccepted(Case c) {
    SignatureVerifier verifier = SignatureVerifiers.create(c.config());

    Map<String, String> headers = verifier.sign(BODY, c.first(), NOW, "msg_1");

    assertThat(verifier.verify(HeaderLookup.of(headers), BODY, NOW)).isEqualTo(Verdict.OK);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void headersSignedWithTheRotatedSecondSecretAreAccepted(Case c) {
    SignatureVerifier verifier = SignatureVerifiers.create(c.config());

    Map<String, String> headers = verifier.sign(BODY, c.second(), NOW, "msg_2");

    assertThat(verifier.verify(HeaderLookup.of(headers), BODY, NOW)).isEqualTo(Verdict.OK);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void headersSignedWithAnUnconfiguredSecretAreRejectedAsInvalid(Case c) {
    SignatureVerifier verifier = SignatureVerifiers.create(c.config());

    Map<String, String> headers = verifier.sign(BODY, c.wrong(), NOW, "msg_3");

    assertThat(verifier.verify(HeaderLookup.of(headers), BODY, NOW))
        .isInstanceOfSatisfying(
            Verdict.Rejected.class, r -> assertThat(r.code()).isEqualTo(c.invalidCode()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void aRequestWithoutTheHeaderIsRejectedAsMissing(Case c) {
    SignatureVerifier verifier = SignatureVerifiers.create(c.config());

    Verdict verdict = verifier.verify(HeaderLookup.of(Map.of()), BODY, NOW);

    assertThat(verdict)
        .isInstanceOfSatisfying(
            Verdict.Rejected.class, r -> assertThat(r.code()).isEqualTo(c.missingCode()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void theSignedHeadersAreExactlyTheSecretHeaders(Case c) {
    SignatureVerifier verifier = SignatureVerifiers.create(c.config());

    Map<String, String> headers = verifier.sign(BODY, c.first(), NOW, "msg_4");

    // svix-signature is webhook-signature under Svix's name: verified and never stored, not signed
    assertThat(verifier.secretHeaders())
        .isNotEmpty()
        .allSatisfy(name -> assertThat(name).isLowerCase())
        .filteredOn(name -> !name.equals(StandardWebhooksVerifier.SVIX_SIGNATURE_HEADER))
        .isNotEmpty()
        .allSatisfy(name -> assertThat(HeaderLookup.of(headers).get(name)).isNotNull());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("bodySigningCases")
  void aBodyChangedByOneByteIsRejectedAsInvalid(Case c) {
    SignatureVerifier verifier = SignatureVerifiers.create(c.config());
    Map<String, String> headers = verifier.sign(BODY, c.first(), NOW, "msg_5");
    byte[] tampered = BODY.clone();
    tampered[tampered.length - 3] ^= 1;

    assertThat(verifier.verify(HeaderLookup.of(headers), tampered, NOW))
        .isInstanceOfSatisfying(
            Verdict.Rejected.class, r -> assertThat(r.code()).isEqualTo(Verdict.SIGNATURE_INVALID));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void aRejectionMessageNeverContainsASecretTheSignatureOrTheBody(Case c) {
    SignatureVerifier verifier = SignatureVerifiers.create(c.config());
    Map<String, String> headers = verifier.sign(BODY, c.wrong(), NOW, "msg_6");
    byte[] tampered = BODY.clone();
    tampered[0] = ' ';

    List<Verdict> verdicts = new ArrayList<>();
    verdicts.add(verifier.verify(HeaderLookup.of(headers), BODY, NOW));
    verdicts.add(verifier.verify(HeaderLookup.of(signedWithFirst(verifier, c)), tampered, NOW));
    verdicts.add(verifier.verify(HeaderLookup.of(Map.of()), BODY, NOW));

    List<String> forbidden = new ArrayList<>(List.of(c.first(), c.second(), c.wrong()));
    forbidden.add(new String(BODY, StandardCharsets.UTF_8));
    signedSecretHeaders(verifier, headers)
        .forEach(name -> forbidden.add(HeaderLookup.of(headers).get(name)));
    forbidden.addAll(signatureParts(verifier, headers));
    for (Verdict verdict : verdicts) {
      if (verdict instanceof Verdict.Rejected r) {
        assertThat(r.message()).isNotBlank();
        forbidden.forEach(secret -> assertThat(r.message()).doesNotContain(secret));
      }
    }
  }

  @Test
  void schemeNoneAcceptsEveryRequestAndSignsNothing() {
    SignatureVerifier verifier = SignatureVerifiers.create(scheme("none", null, null));

    assertThat(verifier.verify(HeaderLookup.of(Map.of()), BODY, NOW)).isEqualTo(Verdict.OK);
    assertThat(verifier.sign(BODY, "anything", NOW, "msg_7")).isEmpty();
    assertThat(verifier.secretHeaders()).isEmpty();
    assertThat(verifier.schemeName()).isEqualTo("none");
  }

  @Test
  void basicAndBearerDeclareTheAuthorizationHeaderSecret() {
    assertThat(SignatureVerifiers.create(scheme("basic", null, null, "u:p")).secretHeaders())
        .containsExactly("authorization");
    assertThat(SignatureVerifiers.create(scheme("bearer", null, null, "t")).secretHeaders())
        .containsExactly("authorization");
  }

  @Test
  void everySchemeNameIsReportedAsConfigured() {
    for (String name : VerifyConfig.SCHEMES) {
      String secret = name.equals("standard-webhooks") ? WHSEC_FIRST : "user:secret";
      assertThat(SignatureVerifiers.create(scheme(name, null, null, secret)).schemeName())
          .isEqualTo(name);
    }
  }

  @Test
  void anUnknownSchemeIsRefusedAtCreation() {
    assertThatThrownBy(() -> SignatureVerifiers.create(scheme("hmac-md5", null, null, "s")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown verify scheme 'hmac-md5'");
  }

  @Test
  void anUnknownPresetIsRefusedAtCreation() {
    assertThatThrownBy(() -> SignatureVerifiers.create(preset("genesys-pigeon", null, "s")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown verify preset 'genesys-pigeon'");
  }

  @Test
  void aSchemeThatNeedsSecretsIsRefusedWithoutAny() {
    assertThatThrownBy(() -> SignatureVerifiers.create(scheme("hmac-sha256-hex", null, null)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one secret");
  }

  @Test
  void aBasicSecretWithoutAColonIsRefusedWithoutEchoingIt() {
    assertThatThrownBy(
            () -> SignatureVerifiers.create(scheme("basic", null, null, "justapassword")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("user:password")
        .hasMessageNotContaining("justapassword");
  }

  @Test
  void aConfigWithBothSchemeAndPresetIsRefused() {
    VerifyConfig both =
        new VerifyConfig("basic", "genesys-data-action", null, null, List.of("u:p"), null);

    assertThatThrownBy(() -> SignatureVerifiers.create(both))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not both");
  }

  private static Map<String, String> signedWithFirst(SignatureVerifier verifier, Case c) {
    return verifier.sign(BODY, c.first(), NOW, "msg_6");
  }

  /** The bare signatures inside the headers, without prefixes such as {@code sha256=} or v1. */
  /** The secret headers {@code sign} wrote (not another sender's names for them). */
  private static List<String> signedSecretHeaders(
      SignatureVerifier verifier, Map<String, String> headers) {
    return verifier.secretHeaders().stream()
        .filter(name -> HeaderLookup.of(headers).get(name) != null)
        .toList();
  }

  private static List<String> signatureParts(
      SignatureVerifier verifier, Map<String, String> headers) {
    List<String> parts = new ArrayList<>();
    for (String name : signedSecretHeaders(verifier, headers)) {
      for (String token : HeaderLookup.of(headers).get(name).split("[ ,=]")) {
        if (token.length() >= 8) {
          parts.add(token);
        }
      }
    }
    return parts;
  }

  private static Case hmac(String scheme, String header, String prefix) {
    String label = scheme + (header == null ? "" : " on " + header);
    return new Case(
        label,
        scheme(scheme, header, prefix, "first-hmac-secret", "second-hmac-secret"),
        "first-hmac-secret",
        "second-hmac-secret",
        "guessed-hmac-secret",
        Verdict.SIGNATURE_MISSING,
        Verdict.SIGNATURE_INVALID,
        true);
  }

  static VerifyConfig scheme(String scheme, String header, String prefix, String... secrets) {
    return new VerifyConfig(scheme, null, header, prefix, List.of(secrets), null);
  }

  static VerifyConfig preset(String preset, String header, String... secrets) {
    return new VerifyConfig(null, preset, header, null, List.of(secrets), null);
  }

  static String whsec(String key) {
    return "whsec_" + Base64.getEncoder().encodeToString(key.getBytes(StandardCharsets.UTF_8));
  }
}
