package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.SourceConfig;
import dev.switchboard.config.SwitchboardConfig;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code demo --genesys-pull}'s configuration: demo.yaml with the pulled source and its route. */
class DemoGenesysPullTest {
  @TempDir Path dir;

  @Test
  void theBundledAdditionGoesIntoDemoYamlsSectionsAndTheResultLoads() throws Exception {
    String base;
    try (InputStream in = DemoGenesysPullTest.class.getResourceAsStream("/demo/demo.yaml")) {
      base = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Path file = Files.writeString(dir.resolve("demo.yaml"), DemoGenesysPull.withPulledSource(base));

    SwitchboardConfig config =
        ConfigLoader.load(
            file,
            Map.of(
                "DEMO_HOST", "127.0.0.1",
                "DEMO_PORT", "0",
                "DEMO_DATA", dir.toString(),
                "DEMO_ADMIN_TOKEN", "t".repeat(32),
                "DEMO_WEBHOOK_SECRET", "s".repeat(32),
                "DEMO_SALESFORCE_URL", "http://127.0.0.1:1",
                "DEMO_SALESFORCE_SECRET", "sf",
                "DEMO_SLACK_URL", "http://127.0.0.1:2/slack",
                "DEMO_GENESYS_URL", "http://127.0.0.1:3",
                "DEMO_GENESYS_SECRET", "gc"));

    assertThat(config.sources()).containsOnlyKeys("genesys-queues", "genesys-dispositions");
    SourceConfig pulled = config.sources().get("genesys-queues");
    assertThat(pulled.pull().loginUrl()).isEqualTo(URI.create("http://127.0.0.1:3"));
    assertThat(pulled.pull().topics())
        .containsExactly("v2.routing.queues." + DemoGenesysPull.QUEUE + ".conversations");
    assertThat(config.routes())
        .containsOnlyKeys(
            "queue-conversations-to-slack",
            "dispositions-to-salesforce",
            "escalations-to-slack",
            "operational-events-to-slack");
    assertThat(config.routes().get("queue-conversations-to-slack").to()).isEqualTo("slack");
  }

  @Test
  void aSectionTheBaseLacksIsAppended() {
    String merged =
        DemoGenesysPull.merge(
            "# base\nsources:\n  a:\n    x: 1\n",
            "# addition\nsources:\n  b:\n    y: 2\n\nroutes:\n  r: { from: b }\n");

    assertThat(merged)
        .isEqualTo(
            "# base\nsources:\n  b:\n    y: 2\n\n  a:\n    x: 1\nroutes:\n  r: { from: b }\n");
  }
}
