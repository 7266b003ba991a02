package dev.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every configuration in the repository's {@code examples/} loads as it is, once the variables it
 * names are set to values of the right shape (a URL for {@code *_URL}, a {@code whsec_} secret for
 * signing secrets, …), as {@code switchboard validate} would accept them.
 */
class ExamplesTest {
  private static final Path EXAMPLES = Path.of("examples");
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Z0-9_]+)(:-[^}]*)?}");

  static Stream<Path> examples() throws IOException {
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      List<Path> yaml = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
      assertThat(yaml).as("examples/*.yaml").isNotEmpty();
      return yaml.stream();
    }
  }

  @ParameterizedTest
  @MethodSource("examples")
  void loads(Path example) throws Exception {
    Map<String, String> env = new HashMap<>();
    Matcher m = VARIABLE.matcher(Files.readString(example));
    while (m.find()) {
      env.put(m.group(1), valueFor(m.group(1)));
    }

    SwitchboardConfig config = ConfigLoader.load(example, env);

    assertThat(config.routes()).as("routes of " + example).isNotEmpty();
    assertThat(config.destinations()).as("destinations of " + example).isNotEmpty();
  }

  /** A value of the shape the variable's name promises. */
  static String valueFor(String name) {
    String n = name.toUpperCase(Locale.ROOT);
    if (n.contains("SIGNING_SECRET") || n.startsWith("WHSEC")) {
      return "whsec_"
          + Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes());
    }
    if (n.contains("JDBC") || n.endsWith("DB_URL")) {
      return "jdbc:postgresql://127.0.0.1:5432/switchboard";
    }
    if (n.contains("BOOTSTRAP")) {
      return "127.0.0.1:9092";
    }
    if (n.endsWith("_URL") || n.endsWith("_URI") || n.endsWith("_HOST")) {
      return "https://example.test/hook?sig=abc";
    }
    if (n.contains("EMAIL")) {
      return "ops@example.test";
    }
    if (n.equals("PORT") || n.endsWith("_PORT")) {
      return "8080";
    }
    return "example-value-" + n.toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
