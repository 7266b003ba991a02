package dev.switchboard.packaging;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Outside commands for the packaging tests (podman, kubectl, docker-compose, the Maven wrapper):
 * exit code and output, stdout and stderr together; 127 when the command is not installed, 124 when
 * it outlives its time (it is then killed).
 */
final class Commands {
  private Commands() {}

  record Result(int exit, String output) {}

  /** Runs {@code command}, its output going through a file in {@code scratch}. */
  static Result run(Path scratch, List<String> command, long timeoutSeconds)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile(scratch, "cmd", ".out");
    Process p;
    try {
      p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
    } catch (IOException notFound) {
      return new Result(127, notFound.getMessage());
    }
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Result(124, "timed out: " + String.join(" ", command));
    }
    return new Result(p.exitValue(), Files.readString(out));
  }
}
