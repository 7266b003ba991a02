package dev.switchboard.security;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Structural check that credentials are compared in constant time (SPEC §4 "constant-time compare",
 * §9 admin bearer token): the places that hold a secret compare through {@link
 * MessageDigest#isEqual}, and the verifiers never compare with {@code String.equals} or {@code
 * Arrays.equals}, which stop at the first differing byte.
 */
class ConstantTimeCompareTest {
  static final JavaClasses MAIN =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.switchboard.admin", "dev.switchboard.ingest.verify");

  static List<String> isEqualCallers() {
    return MAIN.stream()
        .flatMap(c -> c.getMethodCallsFromSelf().stream())
        .filter(ConstantTimeCompareTest::isMessageDigestIsEqual)
        .map(call -> call.getOrigin().getOwner().getSimpleName() + "." + call.getOrigin().getName())
        .distinct()
        .sorted()
        .toList();
  }

  static boolean isMessageDigestIsEqual(JavaMethodCall call) {
    return call.getTargetOwner().isEquivalentTo(MessageDigest.class)
        && call.getName().equals("isEqual");
  }

  @Test
  void theAdminTokenAndEveryIngestCredentialAreComparedWithMessageDigestIsEqual() {
    assertThat(isEqualCallers())
        .contains("AdminRoutes.guard", "AcceptedCredentials.matches", "HmacKey.anyMatches");
    JavaClass admin = MAIN.get("dev.switchboard.admin.AdminRoutes");
    // both sides are hashed first, so neither the token's length nor a prefix shows in the timing
    assertThat(
            admin.getMethodCallsFromSelf().stream()
                .filter(call -> call.getOrigin().getName().equals("guard"))
                .map(JavaMethodCall::getName))
        .contains("isEqual", "sha256");
  }

  @Test
  void noVerifierComparesWithAnEarlyExitEquals() {
    noClasses()
        .that()
        .resideInAPackage("dev.switchboard.ingest.verify")
        // compares the configured scheme name, not a credential
        .and()
        .doNotHaveSimpleName("SignatureVerifiers")
        .should()
        .callMethod(String.class, "equals", Object.class)
        .orShould()
        .callMethod(String.class, "contentEquals", CharSequence.class)
        .orShould()
        .callMethod(Arrays.class, "equals", byte[].class, byte[].class)
        .orShould()
        .callMethod(Arrays.class, "equals", char[].class, char[].class)
        .because("a credential compared with an early exit leaks how much of it matched")
        .check(MAIN);
  }
}
