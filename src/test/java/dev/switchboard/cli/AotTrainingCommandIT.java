package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code switchboard aot-training}, the build's training run for the AOT cache (docs/adr/0012): a
 * real gateway on SQLite takes events and delivers them to a local sink, then stops and leaves
 * nothing behind.
 */
class AotTrainingCommandIT {

  @Test
  void theTrainingRunDeliversItsEventsAndCleansUp() throws IOException {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    long before = trainingFolders(tmp);
    int exit = Main.commandLine().execute("aot-training");
    assertThat(exit).isZero();
    assertThat(trainingFolders(tmp)).as("its temporary folder is removed").isEqualTo(before);
  }

  @Test
  void theCommandIsNotListedForOperators() {
    java.io.StringWriter usage = new java.io.StringWriter();
    Main.commandLine().usage(new java.io.PrintWriter(usage));
    assertThat(usage.toString()).contains("serve").doesNotContain("aot-training");
  }

  private static long trainingFolders(Path tmp) throws IOException {
    try (Stream<Path> entries = Files.list(tmp)) {
      return entries
          .filter(p -> p.getFileName().toString().startsWith("switchboard-aot-training"))
          .count();
    }
  }
}
