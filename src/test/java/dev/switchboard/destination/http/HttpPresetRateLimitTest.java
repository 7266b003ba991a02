package dev.switchboard.destination.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.RateLimit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every {@code http} preset's documented rate becomes the destination's rate limit by default. */
class HttpPresetRateLimitTest {
  @TempDir Path dir;

  private Map<String, DestinationConfig> destinations(String extras) throws Exception {
    StringBuilder yaml =
        new StringBuilder("sources:\n  calls:\n    verify: { scheme: none }\ndestinations:\n");
    for (HttpDestinationSettings.Preset preset : HttpDestinationSettings.Preset.values()) {
      yaml.append("  ")
          .append(preset.configName())
          .append(":\n    type: http\n    url: https://example.com/hook\n    preset: ")
          .append(preset.configName())
          .append("\n")
          .append(extras);
    }
    Path file = Files.writeString(dir.resolve("switchboard.yaml"), yaml.toString());
    return ConfigLoader.load(file, Map.of()).destinations();
  }

  @Test
  void eachPresetWithoutRateLimitGetsTheRateItsTargetDocuments() throws Exception {
    Map<String, DestinationConfig> destinations = destinations("");

    for (HttpDestinationSettings.Preset preset : HttpDestinationSettings.Preset.values()) {
      DestinationConfig config = destinations.get(preset.configName());
      assertThat(Optional.ofNullable(config.rateLimit()))
          .as(preset.configName())
          .isPresent()
          .isEqualTo(((HttpDestinationSettings) config.settings()).presetRateLimit());
    }
    assertThat(destinations.get("zapier").rateLimit())
        .isEqualTo(new RateLimit(30, Duration.ofSeconds(1)));
    assertThat(destinations.get("power-automate").rateLimit())
        .isEqualTo(new RateLimit(15, Duration.ofSeconds(1)));
  }

  @Test
  void aWrittenRateLimitWinsOverEveryPresetsRate() throws Exception {
    Map<String, DestinationConfig> destinations = destinations("    rate_limit: 150/second\n");

    assertThat(destinations.values())
        .extracting(DestinationConfig::rateLimit)
        .containsOnly(new RateLimit(150, Duration.ofSeconds(1)));
  }
}
