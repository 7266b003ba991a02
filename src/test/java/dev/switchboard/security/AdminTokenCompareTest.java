package dev.switchboard.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

/**
 * The admin bearer token is compared in constant time (docs/admin-api.md), checked on the bytecode:
 * {@code AdminRoutes.guard} hashes both sides and compares the digests with {@link
 * MessageDigest#isEqual}. The ingest verifiers' compare is checked by {@code
 * ingest.verify.ConstantTimeCompareTest}.
 */
class AdminTokenCompareTest {
  @Test
  void theAdminTokenIsComparedAsDigestsWithMessageDigestIsEqual() {
    JavaClass admin =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.switchboard.admin")
            .get("dev.switchboard.admin.AdminRoutes");
    // both sides are hashed first, so neither the token's length nor a prefix shows in the timing
    assertThat(
            admin.getMethodCallsFromSelf().stream()
                .filter(call -> call.getOrigin().getName().equals("guard"))
                .filter(
                    call ->
                        call.getTargetOwner().isEquivalentTo(MessageDigest.class)
                            || call.getName().equals("sha256"))
                .map(JavaMethodCall::getName))
        .contains("isEqual", "sha256");
  }
}
