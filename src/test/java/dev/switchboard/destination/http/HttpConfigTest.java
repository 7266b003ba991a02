package dev.switchboard.destination.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.ConfigProblem;
import dev.switchboard.config.SwitchboardConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the loader refuses in an {@code http} destination's {@code auth:} and templates, and in an
 * {@code http} enricher, each problem at its key.
 */
class HttpConfigTest {
  @TempDir Path dir;

  static final String HEAD =
      """
      sources:
        calls:
          verify: { scheme: none }
      """;

  SwitchboardConfig load(String yaml) throws Exception {
    Path file = dir.resolve("switchboard.yaml");
    Files.writeString(file, HEAD + yaml);
    return ConfigLoader.load(file, Map.of("CLIENT_SECRET", "s3cret-from-env-0042"));
  }

  List<ConfigProblem> problems(String yaml) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> load(yaml));
    assertThat(e).as("loading should fail").isNotNull();
    return e.problems();
  }

  static String destination(String url) {
    return """
        routes:
          r:
            from: calls
            to: crm
        destinations:
          crm:
            type: http
            url: "%s"
        """
        .formatted(url);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "https://{host}/v1/tickets",
        "https://api.{tenant}.example.com/v1",
        "https://api.example.com:{port}/v1",
        "https://api.example.com{path}",
        "{scheme}://api.example.com/v1"
      })
  void aTemplateCannotChooseTheHost(String url) {
    assertThat(problems(destination(url)))
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.path()).isEqualTo("destinations.crm.url");
              assertThat(p.message()).contains("cannot choose the host");
            });
  }

  @Test
  void aTemplatedPathAndQueryLoad() throws Exception {
    SwitchboardConfig config =
        load(destination("https://api.example.com/v1/tickets/{ticketId}?expand={$eventId}"));

    HttpDestinationSettings s =
        (HttpDestinationSettings) config.destinations().get("crm").settings();
    assertThat(s.urlTemplate().placeholders()).containsExactly("ticketId", "$eventId");
    assertThat(s.safeTarget()).isEqualTo("https://api.example.com/v1/tickets/{ticketId}");
  }

  @Test
  void aBadPlaceholderIsAProblemAtTheUrl() {
    assertThat(problems(destination("https://api.example.com/v1/{ticketId")))
        .singleElement()
        .satisfies(p -> assertThat(p.path()).isEqualTo("destinations.crm.url"));
    assertThat(problems(destination("https://api.example.com/v1/{x}#frag")))
        .singleElement()
        .satisfies(p -> assertThat(p.message()).contains("#fragment"));
  }

  @Test
  void everyPlaceholderMustNameABindingTheRouteGives() {
    String yaml =
        """
        enrichers:
          crm-api:
            type: http
            url: https://crm.example.com/api
        routes:
          with-lookup:
            from: calls
            enrich: { using: crm-api, path: "/contacts/{phone}", as: contact }
            to: tickets
          without-lookup:
            from: calls
            to: tickets
        destinations:
          tickets:
            type: http
            url: "https://api.example.com/v1/{$contact.id}/{$string(ticketId)}?e={$eventId}"
            headers:
              X-Source: "{$source}"
        """;

    assertThat(problems(yaml))
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.path()).isEqualTo("routes.without-lookup.to");
              assertThat(p.message())
                  .startsWith("destination tickets's templates read $contact,")
                  .doesNotContain("$string");
            });
  }

  @Test
  void anAuthorizationHeaderBesideAuthIsAProblem() {
    String yaml =
        destination("https://api.example.com/v1")
            + """
                headers: { Authorization: "Bearer x" }
                auth: { type: bearer, token: abc }
            """;

    assertThat(problems(yaml))
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.path()).isEqualTo("destinations.crm.auth");
              assertThat(p.message()).contains("not both");
            });
  }

  @Test
  void missingAuthKeysAreNamedAndTheSecretNeverShown() {
    String yaml =
        destination("https://api.example.com/v1")
            + """
                auth:
                  type: oauth2-client-credentials
                  client_secret: ${CLIENT_SECRET}
                  client_auth: header
                  grant: x
            """;

    List<ConfigProblem> problems = problems(yaml);

    assertThat(problems)
        .extracting(ConfigProblem::path)
        .contains(
            "destinations.crm.auth.token_url",
            "destinations.crm.auth.client_id",
            "destinations.crm.auth.client_auth",
            "destinations.crm.auth.grant");
    assertThat(problems.toString()).doesNotContain("s3cret-from-env-0042");
  }

  @Test
  void entraIdAndGenesysTokenEndpointsLoadAsTheyAre() throws Exception {
    String yaml =
        """
        routes:
          r1: { from: calls, to: flow }
          r2: { from: calls, to: genesys }
        destinations:
          flow:
            type: http
            url: https://example.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1
            auth:
              type: oauth2-client-credentials
              token_url: https://login.microsoftonline.com/6f1c2d3e-0a4b-4c5d-8e9f-a0b1c2d3e4f5/oauth2/v2.0/token
              client_id: 9b8a7c6d
              client_secret: ${CLIENT_SECRET}
              scope: https://service.flow.microsoft.com//.default
          genesys:
            type: http
            url: https://api.mypurecloud.de/api/v2/conversations/calls
            auth:
              type: oauth2-client-credentials
              token_url: https://login.mypurecloud.de/oauth/token
              client_id: gc
              client_secret: ${CLIENT_SECRET}
              client_auth: basic
        """;

    SwitchboardConfig config = load(yaml);

    HttpAuth.ClientCredentials flow =
        (HttpAuth.ClientCredentials)
            ((HttpDestinationSettings) config.destinations().get("flow").settings()).auth();
    assertThat(flow.form())
        .containsExactly(Map.entry("scope", "https://service.flow.microsoft.com//.default"));
    assertThat(flow.clientAuth()).isEqualTo(OAuthClientCredentials.ClientAuth.FORM);
    HttpAuth.ClientCredentials genesys =
        (HttpAuth.ClientCredentials)
            ((HttpDestinationSettings) config.destinations().get("genesys").settings()).auth();
    assertThat(genesys.clientAuth()).isEqualTo(OAuthClientCredentials.ClientAuth.BASIC);
    assertThat(config.destinations().get("flow").settings().toString())
        .doesNotContain("s3cret-from-env-0042");
  }

  @Test
  void anHttpEnrichersUrlIsABaseAndAbsolutePathsElsewhereAreRefused() {
    String yaml =
        """
        enrichers:
          crm-api:
            type: http
            url: https://crm.example.com/api?key=1
          other:
            type: http
            url: https://crm.example.com/api
        routes:
          r:
            from: calls
            enrich: { using: other, path: "https://evil.example.com/api/{phone}", as: contact }
            to: crm
        destinations:
          crm: { type: http, url: "https://api.example.com/v1" }
        """;

    assertThat(problems(yaml))
        .extracting(ConfigProblem::path)
        .containsExactly("enrichers.crm-api.url", "routes.r.enrich.path");
  }

  @Test
  void eachEnricherTypeTakesOnlyItsOwnKeys() {
    String yaml =
        """
        enrichers:
          crm-api:
            type: http
            url: https://crm.example.com/api
            client_id: x
          genesys:
            type: genesys-cloud
            region: mypurecloud.com
            client_id: a
            client_secret: b
            timeout: 5s
        routes:
          r: { from: calls, to: crm }
        destinations:
          crm: { type: http, url: "https://api.example.com/v1" }
        """;

    assertThat(problems(yaml))
        .extracting(ConfigProblem::path)
        .containsExactly("enrichers.crm-api.client_id", "enrichers.genesys.timeout");
  }
}
