package dev.switchboard.ingest.verify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.VerifyConfig;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Basic, bearer and API-key credentials, including what a Genesys data action sends. */
class StaticCredentialVerifiersTest {

  static final Instant NOW = Instant.parse("2026-03-01T10:15:30Z");
  static final byte[] BODY = "{}".getBytes(StandardCharsets.UTF_8);

  @Test
  void aDataActionWithoutAHeaderSendsBasicCredentials() {
    SignatureVerifier verifier = create(null, "genesys-data-action", null, "architect:s3cret");
    String basic =
        "Basic "
            + Base64.getEncoder()
                .encodeToString("architect:s3cret".getBytes(StandardCharsets.UTF_8));

    assertThat(verifier.schemeName()).isEqualTo("basic");
    assertThat(verifier.verify(lookup("Authorization", basic), BODY, NOW)).isEqualTo(Verdict.OK);
  }

  @Test
  void aDataActionWithAHeaderSendsAnApiKeyInIt() {
    SignatureVerifier verifier = create(null, "genesys-data-action", "X-Switchboard-Key", "k-123");

    assertThat(verifier.schemeName()).isEqualTo("api-key");
    assertThat(verifier.secretHeaders()).containsExactly("x-switchboard-key");
    assertThat(verifier.verify(lookup("X-Switchboard-Key", "k-123"), BODY, NOW))
        .isEqualTo(Verdict.OK);
  }

  @Test
  void theApiKeyHeaderDefaultsToXApiKey() {
    SignatureVerifier verifier = create("api-key", null, null, "k-123");

    assertThat(verifier.verify(lookup("X-Api-Key", "k-123"), BODY, NOW)).isEqualTo(Verdict.OK);
  }

  @Test
  void aRightUserWithAWrongPasswordIsRejectedAsInvalidCredentials() {
    SignatureVerifier verifier = create("basic", null, null, "architect:s3cret");
    String basic =
        "Basic "
            + Base64.getEncoder()
                .encodeToString("architect:guess".getBytes(StandardCharsets.UTF_8));

    assertThat(code(verifier.verify(lookup("Authorization", basic), BODY, NOW)))
        .isEqualTo(Verdict.CREDENTIALS_INVALID);
  }

  @Test
  void basicCredentialsThatAreNotBase64AreRejectedAsInvalid() {
    SignatureVerifier verifier = create("basic", null, null, "architect:s3cret");

    assertThat(code(verifier.verify(lookup("Authorization", "Basic ***"), BODY, NOW)))
        .isEqualTo(Verdict.CREDENTIALS_INVALID);
  }

  @Test
  void aBearerTokenSentAsBasicIsRejectedAsInvalid() {
    SignatureVerifier verifier = create("bearer", null, null, "tok");

    assertThat(code(verifier.verify(lookup("Authorization", "Basic tok"), BODY, NOW)))
        .isEqualTo(Verdict.CREDENTIALS_INVALID);
  }

  @Test
  void theBearerKeywordIsMatchedCaseInsensitively() {
    SignatureVerifier verifier = create("bearer", null, null, "tok");

    assertThat(verifier.verify(lookup("Authorization", "bearer tok"), BODY, NOW))
        .isEqualTo(Verdict.OK);
  }

  @Test
  void aTokenThatIsOnlyAPrefixOfTheSecretIsRejected() {
    SignatureVerifier verifier = create("bearer", null, null, "token-long");

    assertThat(code(verifier.verify(lookup("Authorization", "Bearer token"), BODY, NOW)))
        .isEqualTo(Verdict.CREDENTIALS_INVALID);
  }

  private static SignatureVerifier create(
      String scheme, String preset, String header, String secret) {
    return SignatureVerifiers.create(
        new VerifyConfig(scheme, preset, header, null, List.of(secret), null));
  }

  private static HeaderLookup lookup(String name, String value) {
    return HeaderLookup.of(Map.of(name, value));
  }

  private static String code(Verdict verdict) {
    return verdict instanceof Verdict.Rejected r ? r.code() : "ok";
  }
}
