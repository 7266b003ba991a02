package dev.switchboard.ingest.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.config.VerifyConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Checked against the vector published with the Standard Webhooks reference libraries. */
class StandardWebhooksVerifierTest {

  static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  static final String ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  static final String TIMESTAMP = "1614265330";
  static final Instant SENT = Instant.ofEpochSecond(1614265330L);
  static final byte[] BODY = "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8);
  static final String SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

  final SignatureVerifier verifier = create(SECRET);

  @Test
  void thePublishedVectorVerifiesAtItsOwnTimestamp() {
    assertThat(verifier.verify(vector(SIGNATURE), BODY, SENT)).isEqualTo(Verdict.OK);
  }

  @Test
  void signingThePublishedInputsReproducesThePublishedSignature() {
    Map<String, String> headers = verifier.sign(BODY, SECRET, SENT, ID);

    assertThat(headers)
        .containsEntry("webhook-id", ID)
        .containsEntry("webhook-timestamp", TIMESTAMP)
        .containsEntry("webhook-signature", SIGNATURE);
  }

  @Test
  void thePublishedVectorIsTooOldThreeHundredAndOneSecondsLater() {
    assertThat(codeOf(verifier.verify(vector(SIGNATURE), BODY, SENT.plusSeconds(301))))
        .isEqualTo(Verdict.TIMESTAMP_OUT_OF_TOLERANCE);
  }

  @Test
  void thePublishedVectorIsTooNewThreeHundredAndOneSecondsEarlier() {
    assertThat(codeOf(verifier.verify(vector(SIGNATURE), BODY, SENT.minusSeconds(301))))
        .isEqualTo(Verdict.TIMESTAMP_OUT_OF_TOLERANCE);
  }

  @Test
  void exactlyFiveMinutesOfSkewIsStillAccepted() {
    assertThat(verifier.verify(vector(SIGNATURE), BODY, SENT.plusSeconds(300)))
        .isEqualTo(Verdict.OK);
    assertThat(verifier.verify(vector(SIGNATURE), BODY, SENT.minusSeconds(300)))
        .isEqualTo(Verdict.OK);
  }

  @Test
  void aConfiguredToleranceReplacesTheDefault() {
    SignatureVerifier strict =
        SignatureVerifiers.create(
            new VerifyConfig(
                "standard-webhooks", null, null, null, List.of(SECRET), Duration.ofSeconds(10)));

    assertThat(codeOf(strict.verify(vector(SIGNATURE), BODY, SENT.plusSeconds(11))))
        .isEqualTo(Verdict.TIMESTAMP_OUT_OF_TOLERANCE);
  }

  @Test
  void oneMatchingEntryAmongSeveralIsEnoughAndV1aEntriesAreIgnored() {
    String header =
        "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= "
            + "v1,Zm9yZ2VkIHNpZ25hdHVyZQ== v1,not*base64 "
            + SIGNATURE;

    assertThat(verifier.verify(vector(header), BODY, SENT)).isEqualTo(Verdict.OK);
  }

  @Test
  void onlyAV1aEntryIsRejectedAsInvalid() {
    String header = "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    assertThat(codeOf(verifier.verify(vector(header), BODY, SENT)))
        .isEqualTo(Verdict.SIGNATURE_INVALID);
  }

  @Test
  void aNonNumericTimestampIsRejectedAsInvalid() {
    HeaderLookup headers =
        HeaderLookup.of(
            Map.of(
                "webhook-id", ID,
                "webhook-timestamp", "2021-02-25T15:02:10Z",
                "webhook-signature", SIGNATURE));

    assertThat(codeOf(verifier.verify(headers, BODY, SENT))).isEqualTo(Verdict.SIGNATURE_INVALID);
  }

  @Test
  void aMissingIdOrTimestampIsRejectedAsMissing() {
    HeaderLookup noId =
        HeaderLookup.of(Map.of("webhook-timestamp", TIMESTAMP, "webhook-signature", SIGNATURE));
    HeaderLookup noTimestamp =
        HeaderLookup.of(Map.of("webhook-id", ID, "webhook-signature", SIGNATURE));

    assertThat(codeOf(verifier.verify(noId, BODY, SENT))).isEqualTo(Verdict.SIGNATURE_MISSING);
    assertThat(codeOf(verifier.verify(noTimestamp, BODY, SENT)))
        .isEqualTo(Verdict.SIGNATURE_MISSING);
  }

  @Test
  void thePublishedVectorVerifiesUnderSvixHeaderNames() {
    HeaderLookup svix =
        HeaderLookup.of(
            Map.of("Svix-Id", ID, "Svix-Timestamp", TIMESTAMP, "Svix-Signature", SIGNATURE));

    assertThat(verifier.verify(svix, BODY, SENT)).isEqualTo(Verdict.OK);
    assertThat(verifier.secretHeaders()).contains("webhook-signature", "svix-signature");
  }

  @Test
  void anIncompleteSvixSetIsMissingAndHalfOfEachSetIsNotMixed() {
    HeaderLookup noSvixId =
        HeaderLookup.of(Map.of("svix-timestamp", TIMESTAMP, "svix-signature", SIGNATURE));
    HeaderLookup mixed =
        HeaderLookup.of(
            Map.of("webhook-id", ID, "svix-timestamp", TIMESTAMP, "svix-signature", SIGNATURE));

    assertThat(codeOf(verifier.verify(noSvixId, BODY, SENT))).isEqualTo(Verdict.SIGNATURE_MISSING);
    assertThat(codeOf(verifier.verify(mixed, BODY, SENT))).isEqualTo(Verdict.SIGNATURE_MISSING);
  }

  @Test
  void aSvixRequestsRefusalNamesTheSvixHeaders() {
    HeaderLookup late =
        HeaderLookup.of(
            Map.of("svix-id", ID, "svix-timestamp", TIMESTAMP, "svix-signature", SIGNATURE));
    HeaderLookup otherBody =
        HeaderLookup.of(
            Map.of(
                "svix-id", "msg_other", "svix-timestamp", TIMESTAMP, "svix-signature", SIGNATURE));

    assertThat(verifier.verify(late, BODY, SENT.plusSeconds(301)))
        .isInstanceOfSatisfying(
            Verdict.Rejected.class,
            r -> assertThat(r.message()).startsWith("svix-timestamp is more than"));
    assertThat(verifier.verify(otherBody, BODY, SENT))
        .isInstanceOfSatisfying(
            Verdict.Rejected.class,
            r -> assertThat(r.message()).isEqualTo("no svix-signature entry matches the body"));
  }

  @Test
  void aDifferentWebhookIdBreaksTheSignature() {
    HeaderLookup headers =
        HeaderLookup.of(
            Map.of(
                "webhook-id", "msg_replayed",
                "webhook-timestamp", TIMESTAMP,
                "webhook-signature", SIGNATURE));

    assertThat(codeOf(verifier.verify(headers, BODY, SENT))).isEqualTo(Verdict.SIGNATURE_INVALID);
  }

  @Test
  void theVectorVerifiesWhenItsSecretIsTheRotatedSecondOne() {
    SignatureVerifier rotated =
        SignatureVerifiers.create(
            new VerifyConfig(
                "standard-webhooks",
                null,
                null,
                null,
                List.of(SignatureVerifiersTest.whsec("the old key"), SECRET),
                null));

    assertThat(rotated.verify(vector(SIGNATURE), BODY, SENT)).isEqualTo(Verdict.OK);
  }

  @Test
  void aSecretWithoutTheWhsecPrefixIsRefusedAtCreation() {
    assertThatThrownBy(() -> create("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("whsec_<base64>")
        .hasMessageNotContaining("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  }

  @Test
  void aSecretThatIsNotBase64AfterTheWhsecPrefixIsRefusedAtCreation() {
    assertThatThrownBy(() -> create("whsec_not*base64!"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("base64")
        .hasMessageNotContaining("not*base64!");
  }

  @Test
  void signingWithAMalformedSecretIsRefused() {
    assertThatThrownBy(() -> verifier.sign(BODY, "plain-secret", SENT, ID))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static SignatureVerifier create(String secret) {
    return SignatureVerifiers.create(
        new VerifyConfig("standard-webhooks", null, null, null, List.of(secret), null));
  }

  private static HeaderLookup vector(String signatureHeader) {
    return HeaderLookup.of(
        Map.of(
            "webhook-id", ID,
            "webhook-timestamp", TIMESTAMP,
            "webhook-signature", signatureHeader));
  }

  /** The rejection code, or "ok"; messages are human text and not asserted here. */
  private static String codeOf(Verdict verdict) {
    return verdict instanceof Verdict.Rejected r ? r.code() : "ok";
  }
}
