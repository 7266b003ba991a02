package dev.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Loads every fixture in {@code config/invalid/}, each named for what is wrong with it, and checks
 * that it fails with exactly the problems its leading comments announce:
 *
 * <pre>{@code # expect: <line>: <path>: <text the message contains>}</pre>
 *
 * <p>One line per expected problem, in file order; an empty path is written as {@code -}.
 */
class InvalidConfigTest {
  private static final String EXPECT = "# expect: ";

  /** Variables the fixtures may use; anything else is unset. */
  private static final Map<String, String> ENV =
      Map.of("WEBHOOK_SECRET", "s3cret", "CRM_URL", "https://crm.example.com/hooks");

  record Expected(int line, String path, String message) {}

  static Stream<Path> fixtures() throws IOException, URISyntaxException {
    Path dir = Path.of(InvalidConfigTest.class.getResource("/config/invalid").toURI());
    List<Path> files;
    try (Stream<Path> listing = Files.list(dir)) {
      files = listing.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertThat(files).as("fixtures in %s", dir).isNotEmpty();
    return files.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void fixtureFailsWithExactlyTheProblemsItExpects(Path fixture) throws IOException {
    List<Expected> expected = expectations(fixture);
    assertThat(expected).as("%s has no '# expect:' lines", fixture.getFileName()).isNotEmpty();

    ConfigException e = ConfigLoaderTest.loadFailing(fixture, ENV);
    List<ConfigProblem> problems = new ArrayList<>(e.problems());
    problems.sort(Comparator.comparingInt(ConfigProblem::line));

    assertThat(problems).as(e.getMessage()).hasSameSizeAs(expected);
    for (int i = 0; i < expected.size(); i++) {
      ConfigProblem actual = problems.get(i);
      Expected want = expected.get(i);
      assertThat(actual.file()).isEqualTo(fixture.toString());
      assertThat(actual.line()).as("line of %s", actual).isEqualTo(want.line());
      assertThat(actual.path()).as("path of %s", actual).isEqualTo(want.path());
      assertThat(actual.message()).as("message of %s", actual).contains(want.message());
    }
  }

  private static List<Expected> expectations(Path fixture) throws IOException {
    List<Expected> expected = new ArrayList<>();
    for (String line : Files.readAllLines(fixture)) {
      if (line.startsWith(EXPECT)) {
        String[] parts = line.substring(EXPECT.length()).split(": ", 3);
        String path = parts[1].equals("-") ? "" : parts[1];
        expected.add(new Expected(Integer.parseInt(parts[0]), path, parts[2]));
      }
    }
    return expected;
  }
}
