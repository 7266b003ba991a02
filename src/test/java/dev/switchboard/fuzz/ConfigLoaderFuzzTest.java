package dev.switchboard.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.ConfigProblem;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.testing.GatewayFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.Map;
import java.util.Set;

/**
 * Fuzzed YAML through {@link ConfigLoader}: either a configuration, or a {@link ConfigException}
 * whose every problem names the file, a line (0 when the whole file is meant) and a message. Never
 * another exception or error: not on deep nesting, aliases (billion laughs), odd scalars or wrong
 * node kinds. Every ${VAR} is defined, so that fuzzed files get past substitution.
 */
class ConfigLoaderFuzzTest {
  /** Every variable is set (to a value that parses as a secret, a path segment or a name). */
  static final Map<String, String> ENV =
      new AbstractMap<>() {
        @Override
        public String get(Object key) {
          return key instanceof String name && name.endsWith("PORT") ? "8080" : "fuzz-value";
        }

        @Override
        public Set<Entry<String, String>> entrySet() {
          return Set.of();
        }
      };

  private static Path file;

  private static synchronized Path file() throws Exception {
    if (file == null) {
      Path dir = Files.createTempDirectory("config-fuzz");
      dir.toFile().deleteOnExit();
      Files.copy(
          GatewayFixture.EXAMPLES.resolve("pe-action-map.schema.json"),
          dir.resolve("pe-action-map.schema.json"));
      file = dir.resolve("switchboard.yaml");
      file.toFile().deleteOnExit();
    }
    return file;
  }

  @FuzzTest(maxDuration = "60s")
  void loadsOrNamesEveryProblem(byte[] yaml) throws Exception {
    Path path = file();
    Files.write(path, yaml);
    try {
      SwitchboardConfig config = ConfigLoader.load(path, ENV);
      assertThat(config.sources()).as("a loaded config has a source").isNotEmpty();
    } catch (ConfigException e) {
      assertThat(e.problems()).as("a refusal names at least one problem").isNotEmpty();
      for (ConfigProblem problem : e.problems()) {
        assertThat(problem.file()).isEqualTo(path.toString());
        assertThat(problem.line()).isGreaterThanOrEqualTo(0);
        assertThat(problem.path()).isNotNull();
        assertThat(problem.message()).isNotBlank();
      }
    }
  }
}
