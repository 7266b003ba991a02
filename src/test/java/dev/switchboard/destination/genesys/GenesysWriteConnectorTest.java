package dev.switchboard.destination.genesys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.destination.genesys.GenesysWriteSettings.Operation;
import dev.switchboard.testing.DestinationConfigs;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the {@code genesys-cloud} destination's keys are read, beside the enricher of that name. */
class GenesysWriteConnectorTest {
  @TempDir Path dir;

  @Test
  void anEnricherAndADestinationOfTheSameTypeNameLiveSideBySide() throws Exception {
    Path file = dir.resolve("switchboard.yaml");
    Files.writeString(
        file,
        """
        sources:
          calls:
            verify: { scheme: none }
        enrichers:
          genesys:
            type: genesys-cloud
            region: mypurecloud.ie
            client_id: gc-client
            client_secret: gc-secret
        routes:
          calls-to-genesys: { from: calls, to: genesys }
        destinations:
          genesys:
            type: genesys-cloud
            region: mypurecloud.ie
            client_id: gc-client
            client_secret: gc-secret
            operation: external-contact
            match_on: email
        """);

    SwitchboardConfig config = ConfigLoader.load(file, Map.of());

    GenesysEnricher.Settings read =
        (GenesysEnricher.Settings) config.enrichers().get("genesys").settings();
    GenesysWriteSettings write =
        (GenesysWriteSettings) config.destinations().get("genesys").settings();
    assertThat(write.client()).isEqualTo(read.client());
    assertThat(write.client().apiUrl()).isEqualTo(URI.create("https://api.mypurecloud.ie"));
    assertThat(write.operation()).isEqualTo(Operation.EXTERNAL_CONTACT);
    assertThat(write.matchOn()).isEqualTo("email");
    assertThat(write.toString()).doesNotContain("gc-secret");
  }

  @Test
  void aRequestDefaultsToPostAndKeepsItsTemplate() {
    GenesysWriteSettings s =
        (GenesysWriteSettings)
            DestinationConfigs.load(
                    "g",
                    "genesys-cloud",
                    Map.of(
                        "login_url", "https://login.example.test/",
                        "api_url", "https://api.example.test/",
                        "client_id", "id",
                        "client_secret", "secret",
                        "operation", "request",
                        "path", "/api/v2/conversations/{conversationId}/tags"),
                    null,
                    4)
                .settings();

    assertThat(s.method()).isEqualTo("POST");
    assertThat(s.path().text()).isEqualTo("/api/v2/conversations/{conversationId}/tags");
    assertThat(s.client().loginUrl()).isEqualTo(URI.create("https://login.example.test"));
  }

  @Test
  void keysOfAnotherOperationAndAnUnknownOperationAreProblems() {
    Map<String, Object> keys =
        Map.of(
            "region", "mypurecloud.com",
            "client_id", "id",
            "client_secret", "secret",
            "operation", "callback",
            "match_on", "phone",
            "method", "PUT");
    assertThatThrownBy(() -> DestinationConfigs.load("g", "genesys-cloud", keys, null, 4))
        .hasMessageContaining("match_on applies to operation external-contact only")
        .hasMessageContaining("method applies to operation request only");
    Map<String, Object> unknown =
        Map.of(
            "region", "mypurecloud.com",
            "client_id", "id",
            "client_secret", "secret",
            "operation", "callbacks");
    assertThatThrownBy(() -> DestinationConfigs.load("g", "genesys-cloud", unknown, null, 4))
        .hasMessageContaining("unknown operation \"callbacks\"");
  }

  @Test
  void theParticipantMeantIsTheCustomerElseTheFirstExternal() throws Exception {
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    assertThat(
            GenesysDestination.customerOf(
                json.readTree(
                    "{\"participants\":[{\"id\":\"a\",\"purpose\":\"agent\"},"
                        + "{\"id\":\"e\",\"purpose\":\"external\"},"
                        + "{\"id\":\"c\",\"purpose\":\"customer\"}]}")))
        .isEqualTo("c");
    assertThat(
            GenesysDestination.customerOf(
                json.readTree(
                    "{\"participants\":[{\"id\":\"a\",\"purpose\":\"agent\"},"
                        + "{\"id\":\"e\",\"purpose\":\"external\"}]}")))
        .isEqualTo("e");
    assertThat(GenesysDestination.customerOf(json.readTree("{\"participants\":[]}"))).isNull();
  }
}
