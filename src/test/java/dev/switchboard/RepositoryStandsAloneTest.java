package dev.switchboard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.ConfigLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The repository builds, tests and runs from a fresh clone with nothing beside it: no file reads or
 * cites a path outside it, and comments cite the project's own docs ({@code docs/*.md}).
 */
class RepositoryStandsAloneTest {
  /** What a clone holds that is read, built, run or shipped. */
  private static final List<String> ROOTS =
      List.of(
          "src",
          "bench",
          "bin",
          "packaging",
          "docs",
          "examples",
          "README.md",
          "CONTRIBUTING.md",
          "SECURITY.md",
          "pom.xml",
          "switchboard",
          ".env.example");

  /** Written in two parts so that this file does not name them itself. */
  private static final List<String> OUTSIDE = List.of("../" + "shared", "shared" + "/");

  private static final Pattern ASSIGNMENT = Pattern.compile("([A-Z][A-Z0-9_]*)=(.*)");
  private static final Pattern REFERENCE = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)(:-[^}]*)?}");

  private static final String SPEC_SECTION = "SPEC" + " §";

  @Test
  void noFileMentionsAPathOutsideTheRepository() throws IOException {
    assertThat(mentionsOf(OUTSIDE)).isEmpty();
  }

  @Test
  void noFileCitesASectionOfAnOutsideSpecification() throws IOException {
    assertThat(mentionsOf(List.of(SPEC_SECTION))).isEmpty();
  }

  @Test
  void theContractExamplesAndTheirReferencesAreInTheRepository() {
    assertThat(Path.of("examples/genesys-to-salesforce.yaml")).isRegularFile();
    assertThat(Path.of("examples/genesys-cloud-to-everything.yaml")).isRegularFile();
    assertThat(Path.of("examples/pe-action-map.schema.json")).isRegularFile();
    assertThat(Path.of("examples/payloads/disposition-updated.json")).isRegularFile();
    assertThat(Path.of(".env.example")).isRegularFile();
  }

  @Test
  void theEnvExampleSetsEveryVariableTheContractExamplesNeedAndBothLoadWithIt() throws Exception {
    Map<String, String> env = new HashMap<>();
    for (String line : Files.readAllLines(Path.of(".env.example"))) {
      Matcher m = ASSIGNMENT.matcher(line);
      if (m.matches()) {
        env.put(m.group(1), m.group(2));
      }
    }

    for (String example :
        List.of("genesys-to-salesforce.yaml", "genesys-cloud-to-everything.yaml")) {
      Path file = Path.of("examples", example);
      Matcher uses = REFERENCE.matcher(Files.readString(file));
      while (uses.find()) {
        if (uses.group(2) == null && !commentedOut(Files.readString(file), uses.start())) {
          assertThat(env).as(".env.example for " + example).containsKey(uses.group(1));
        }
      }
      assertThat(ConfigLoader.load(file, env).destinations()).as(example).isNotEmpty();
    }
  }

  private static boolean commentedOut(String text, int at) {
    int lineStart = text.lastIndexOf('\n', at) + 1;
    return text.substring(lineStart, at).contains("#");
  }

  /** Every line under {@link #ROOTS} holding one of {@code needles}, as "file:line: text". */
  private static List<String> mentionsOf(List<String> needles) throws IOException {
    List<String> found = new ArrayList<>();
    for (String root : ROOTS) {
      Path start = Path.of(root);
      assertThat(start).as("%s in the repository", root).exists();
      try (Stream<Path> files = Files.walk(start)) {
        // bench/out holds a run's outputs (git-ignored; a soak's request file is gigabytes)
        Path outputs = Path.of("bench", "out");
        for (Path file :
            files.filter(p -> !p.startsWith(outputs) && Files.isRegularFile(p)).sorted().toList()) {
          // ISO-8859-1 reads any bytes; the needles are ASCII but for the section sign
          String text = Files.readString(file, StandardCharsets.ISO_8859_1);
          String[] lines = text.split("\n", -1);
          for (int i = 0; i < lines.length; i++) {
            String line =
                new String(lines[i].getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            for (String needle : needles) {
              if (line.contains(needle)) {
                found.add(file + ":" + (i + 1) + ": " + line.strip());
              }
            }
          }
        }
      }
    }
    return found;
  }
}
