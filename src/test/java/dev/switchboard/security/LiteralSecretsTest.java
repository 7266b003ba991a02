package dev.switchboard.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.ConfigProblem;
import dev.switchboard.config.LiteralSecrets;
import dev.switchboard.testing.GatewayFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/guarantees.md: the configuration offers ${ENV} and ${file:} for secrets; a credential
 * written in the file still loads but is warned about by {@code validate} and {@code serve}, with
 * its line and key and never its value.
 */
class LiteralSecretsTest {
  @TempDir Path dir;

  @Test
  void literalCredentialsAreFoundByLineAndKeyWithoutTheirValue() throws Exception {
    Path file = dir.resolve("switchboard.yaml");
    Files.writeString(
        file,
        """
        admin:
          token: literal-admin-token
        store:
          password: literal-pg-password
        sources:
          a:
            verify: { scheme: hmac-sha256-hex, header: X-Sig, secrets: ["lit-hmac", "${ROTATED}"] }
          b:
            verify: { scheme: basic, secrets: ["user:${PASSWORD}"] }
        destinations:
          sf: { type: salesforce, client_id: id-is-not-secret, client_secret: lit-sf-secret }
          jira: { type: jira, api_token: "${file:/run/secrets/jira}" }
          partner:
            type: http
            sign: { scheme: standard-webhooks, secret: whsec_bGl0ZXJhbA== }
            headers: { X-Source: switchboard, Authorization: "Bearer lit-bearer" }
          kafka:
            type: kafka
            properties: { ssl.truststore.password: lit-trust, compression.type: zstd }
        """);

    List<ConfigProblem> found = LiteralSecrets.find(file);

    assertThat(found)
        .extracting(ConfigProblem::line, ConfigProblem::path)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(2, "admin.token"),
            org.assertj.core.groups.Tuple.tuple(4, "store.password"),
            org.assertj.core.groups.Tuple.tuple(7, "sources.a.verify.secrets[0]"),
            org.assertj.core.groups.Tuple.tuple(11, "destinations.sf.client_secret"),
            org.assertj.core.groups.Tuple.tuple(15, "destinations.partner.sign.secret"),
            org.assertj.core.groups.Tuple.tuple(16, "destinations.partner.headers.Authorization"),
            org.assertj.core.groups.Tuple.tuple(
                19, "destinations.kafka.properties.ssl.truststore.password"));
    assertThat(found.toString())
        .contains("${ENV_VAR}")
        .doesNotContain(
            "literal-admin-token",
            "literal-pg-password",
            "lit-hmac",
            "lit-sf-secret",
            "whsec_bGl0ZXJhbA",
            "lit-bearer",
            "lit-trust");
  }

  @Test
  void theShippedExamplesWriteEverySecretByReference() throws Exception {
    List<Path> examples = new java.util.ArrayList<>();
    for (Path folder : List.of(GatewayFixture.EXAMPLES)) {
      try (var files = Files.list(folder)) {
        files.filter(p -> p.toString().endsWith(".yaml")).forEach(examples::add);
      }
    }
    assertThat(examples).hasSizeGreaterThanOrEqualTo(9);
    for (Path example : examples) {
      assertThat(LiteralSecrets.find(example)).as(example.toString()).isEmpty();
    }
  }

  @Test
  void anUnreadableFileGivesNoWarningsForTheLoaderReportsIt() {
    assertThat(LiteralSecrets.find(dir.resolve("missing.yaml"))).isEmpty();
  }
}
