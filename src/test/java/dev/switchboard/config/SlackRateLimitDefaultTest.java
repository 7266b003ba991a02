package dev.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A {@code slack} destination keeps to Slack's one message a second unless told otherwise. */
class SlackRateLimitDefaultTest {
  @TempDir Path dir;

  private Map<String, DestinationConfig> destinations(String yaml) throws Exception {
    String source = "sources:\n  calls:\n    verify: { scheme: none }\n";
    Path file = Files.writeString(dir.resolve("switchboard.yaml"), source + yaml);
    return ConfigLoader.load(file, Map.of()).destinations();
  }

  @Test
  void aSlackDestinationWithoutRateLimitGetsOnePerSecond() throws Exception {
    Map<String, DestinationConfig> destinations =
        destinations(
            """
            destinations:
              alerts:
                type: slack
                url: https://hooks.slack.com/services/T0/B0/X
            """);

    assertThat(destinations.get("alerts").rateLimit())
        .isEqualTo(new RateLimit(1, Duration.ofSeconds(1)));
  }

  @Test
  void aWrittenRateLimitWinsOverTheSlackDefault() throws Exception {
    Map<String, DestinationConfig> destinations =
        destinations(
            """
            destinations:
              alerts:
                type: slack
                url: https://hooks.slack.com/services/T0/B0/X
                rate_limit: 20/minute
            """);

    assertThat(destinations.get("alerts").rateLimit())
        .isEqualTo(new RateLimit(20, Duration.ofMinutes(1)));
  }

  @Test
  void otherTypesStayUnlimitedWithoutRateLimit() throws Exception {
    Map<String, DestinationConfig> destinations =
        destinations(
            """
            destinations:
              crm:
                type: http
                url: https://crm.example.com/hooks
              ops:
                type: jira
                base_url: https://acme.atlassian.net
                email: ops@example.com
                api_token: token
                project: OPS
            """);

    assertThat(destinations.get("crm").rateLimit()).isNull();
    assertThat(destinations.get("ops").rateLimit()).isNull();
  }
}
