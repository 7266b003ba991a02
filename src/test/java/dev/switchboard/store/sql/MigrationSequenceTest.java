package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The migrations' versions run in sequence, with only the gaps docs/store.md explains (V4 and V6
 * were never released, and a shipped version cannot be renumbered).
 */
class MigrationSequenceTest {
  private static final Pattern NAME = Pattern.compile("V(\\d+(?:_\\d+)?)__[a-z0-9_]+\\.sql");

  @Test
  void versionsGrowWithNoGapButTheTwoThatMustStay() throws IOException {
    List<String> names;
    try (Stream<Path> files = Files.list(Path.of("src/main/resources/db/migration"))) {
      names = files.map(f -> f.getFileName().toString()).sorted().toList();
    }
    List<BigDecimal> versions =
        names.stream()
            .map(
                n -> {
                  Matcher m = NAME.matcher(n);
                  assertThat(m.matches()).as("%s is named V<version>__<what>.sql", n).isTrue();
                  return new BigDecimal(m.group(1).replace('_', '.'));
                })
            .sorted()
            .toList();
    assertThat(versions).doesNotHaveDuplicates();
    assertThat(versions.stream().map(v -> v.intValue()).distinct().toList())
        .as("whole versions: V4 and V6 were never released (docs/store.md, Migrations)")
        .startsWith(1, 2, 3, 5, 6);
    for (int i = 1; i < versions.size(); i++) {
      int previous = versions.get(i - 1).intValue();
      int next = versions.get(i).intValue();
      if (previous >= 6) {
        assertThat(next - previous).as("no new gap after V%s", versions.get(i - 1)).isLessThan(2);
      }
    }
  }
}
