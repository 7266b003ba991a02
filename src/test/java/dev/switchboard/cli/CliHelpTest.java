package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** Every command answers {@code --help} and {@code switchboard help COMMAND} with its own usage. */
class CliHelpTest {

  /** Each command's words after {@code switchboard}, e.g. {@code [dlq, replay]}. */
  static Stream<List<String>> commands() {
    List<List<String>> all = new ArrayList<>();
    collect(Main.commandLine(), new ArrayList<>(), all);
    assertThat(all).as("commands").hasSizeGreaterThan(10);
    return all.stream();
  }

  private static void collect(CommandLine cmd, List<String> path, List<List<String>> into) {
    for (var sub : cmd.getSubcommands().entrySet()) {
      if (sub.getKey().equals("help")) {
        continue;
      }
      List<String> words = new ArrayList<>(path);
      words.add(sub.getKey());
      into.add(words);
      collect(sub.getValue(), words, into);
    }
  }

  record Run(int exit, String out, String err) {}

  static Run run(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = Main.commandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int exit = cmd.execute(args.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  @ParameterizedTest(name = "switchboard {0} --help")
  @MethodSource("commands")
  void eachCommandPrintsItsOwnUsageAndExitsZeroOnHelp(List<String> command) {
    List<String> args = new ArrayList<>(command);
    args.add("--help");

    Run run = run(args);

    assertThat(run.exit()).as("exit of %s; stderr: %s", args, run.err()).isZero();
    assertThat(run.out()).contains("Usage: switchboard " + String.join(" ", command));
    assertThat(run.err()).doesNotContain("Missing required");
  }

  @ParameterizedTest(name = "switchboard help {0}")
  @MethodSource("commands")
  void theHelpCommandPrintsTheNamedCommandsUsage(List<String> command) {
    List<String> args = new ArrayList<>(command);
    args.add(command.size() - 1, "help");

    Run run = run(args);

    assertThat(run.exit()).as("exit of %s; stderr: %s", args, run.err()).isZero();
    assertThat(run.out()).contains("Usage: switchboard " + String.join(" ", command));
  }
}
