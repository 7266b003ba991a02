package dev.switchboard.ingest.verify;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The signature and credential compare is constant-time (docs/guarantees.md), checked on the
 * bytecode rather than by a flaky timing measurement: the only comparison of secret material is
 * {@link MessageDigest#isEqual} over a MAC or a SHA-256 digest (so both sides have the same
 * length), every verifier reaches it through {@link HmacKey#anyMatches} or {@link
 * AcceptedCredentials#matches}, and no verifier compares with anything that stops at the first
 * differing byte.
 */
class ConstantTimeCompareTest {
  private static JavaClasses verify;

  @BeforeAll
  static void importVerifiers() {
    verify =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.switchboard.ingest.verify");
  }

  @Test
  void noVerifierComparesWithAnEarlyExitCompare() {
    noClasses()
        .that()
        .resideInAPackage("dev.switchboard.ingest.verify")
        // builds verifiers at config load and compares scheme names, never a secret
        .and()
        .doNotHaveSimpleName("SignatureVerifiers")
        .should()
        .callMethod(String.class, "equals", Object.class)
        .orShould()
        .callMethod(String.class, "equalsIgnoreCase", String.class)
        .orShould()
        .callMethod(String.class, "contentEquals", CharSequence.class)
        .orShould()
        .callMethod(String.class, "compareTo", String.class)
        .orShould()
        .callMethod(String.class, "regionMatches", int.class, String.class, int.class, int.class)
        .orShould()
        .callMethod(Arrays.class, "equals", byte[].class, byte[].class)
        .orShould()
        .callMethod(Arrays.class, "equals", char[].class, char[].class)
        .orShould()
        .callMethod(Arrays.class, "mismatch", byte[].class, byte[].class)
        .orShould()
        .callMethod(Arrays.class, "compare", byte[].class, byte[].class)
        .orShould()
        .callMethod(Objects.class, "equals", Object.class, Object.class)
        .orShould()
        .callMethod(ByteBuffer.class, "equals", Object.class)
        .because("these stop at the first differing byte and so leak how much of a guess is right")
        .check(verify);
  }

  @Test
  void theTwoComparePointsUseMessageDigestIsEqual() {
    classes()
        .that()
        .haveSimpleName("HmacKey")
        .or()
        .haveSimpleName("AcceptedCredentials")
        .should()
        .callMethod(MessageDigest.class, "isEqual", byte[].class, byte[].class)
        .check(verify);
  }

  @Test
  void everySecretCheckingVerifierGoesThroughAComparePoint() {
    classes()
        .that()
        .haveSimpleName("HmacVerifier")
        .or()
        .haveSimpleName("StandardWebhooksVerifier")
        .should()
        .callMethod(HmacKey.class, "anyMatches", List.class, List.class, byte[][].class)
        .check(verify);
    classes()
        .that()
        .haveSimpleName("BasicAuthVerifier")
        .or()
        .haveSimpleName("BearerTokenVerifier")
        .or()
        .haveSimpleName("ApiKeyVerifier")
        .should()
        .callMethodWhere(
            com.tngtech.archunit.core.domain.JavaCall.Predicates.target(
                com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner(
                    com.tngtech.archunit.base.DescribedPredicate.describe(
                        "AcceptedCredentials", c -> c.isEquivalentTo(AcceptedCredentials.class)))))
        .check(verify);
  }

  @Test
  void aCredentialIsComparedAsADigestSoItsLengthDoesNotMatter() {
    // equal-length digests are what makes MessageDigest.isEqual's time independent of the guess
    AcceptedCredentials accepted = new AcceptedCredentials(List.of("the-real-token"));
    assertThat(accepted.matches("the-real-token")).isTrue();
    assertThat(accepted.matches("the-real-toke")).isFalse();
    assertThat(accepted.matches("the-real-token-and-more")).isFalse();
    assertThat(accepted.matches("")).isFalse();
  }

  @Test
  void everyKeyAndEveryCandidateIsTriedSoAMatchAnywhereCounts() {
    HmacKey first = new HmacKey("HmacSHA256", new byte[] {1, 2, 3});
    HmacKey second = new HmacKey("HmacSHA256", new byte[] {4, 5, 6});
    byte[] body = {42};
    byte[] bySecond = second.sign(body);
    byte[] wrongLength = Arrays.copyOf(bySecond, 31);
    assertThat(HmacKey.anyMatches(List.of(first, second), List.of(wrongLength, bySecond), body))
        .isTrue();
    assertThat(HmacKey.anyMatches(List.of(first, second), List.of(wrongLength), body)).isFalse();
    assertThat(HmacKey.anyMatches(List.of(first), List.of(bySecond), body)).isFalse();
  }
}
