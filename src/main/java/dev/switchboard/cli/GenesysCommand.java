package dev.switchboard.cli;

import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.PullConfig;
import dev.switchboard.config.SourceConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.pull.genesys.GenesysCheck;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code switchboard genesys check}: a pulled Genesys source's client, topics and permissions. */
@Command(
    name = "genesys",
    description = "Genesys Cloud tools: check a genesys-notifications source against Genesys.",
    subcommands = {GenesysCommand.Check.class})
final class GenesysCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * Loads the configuration and runs {@link GenesysCheck} on one source: one line per check, exit 0
   * when every check passed, 1 otherwise (configuration problems as {@code validate} prints them).
   */
  @Command(
      name = "check",
      description =
          "Try a genesys-notifications source against Genesys Cloud: a token, a channel per 1,000"
              + " topics with its subscriptions, and an Analytics query; one line per check."
              + " Exit 0 when all pass.")
  static final class Check implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "the YAML configuration")
    Path file;

    @Option(
        names = "--source",
        required = true,
        description = "the source to check (type: genesys-notifications)")
    String source;

    @Override
    public Integer call() {
      SwitchboardConfig config;
      try {
        config = ConfigLoader.load(file);
      } catch (ConfigException e) {
        ValidateCommand.printProblems(file, e);
        return 1;
      }
      SourceConfig found = config.sources().get(source);
      if (found == null) {
        System.err.printf(
            "%s: no source %s (sources: %s)%n",
            file, source, String.join(", ", config.sources().keySet()));
        return 1;
      }
      if (!found.pulled()) {
        System.err.printf(
            "%s: source %s is a webhook source; only a type: genesys-notifications source is"
                + " checked against Genesys%n",
            file, source);
        return 1;
      }
      PullConfig pull = found.pull();
      int channels =
          (pull.topics().size() + PullConfig.TOPICS_PER_CHANNEL - 1)
              / PullConfig.TOPICS_PER_CHANNEL;
      System.out.printf(
          "%s: checking %s and %s (%s, %d %s)%n",
          source,
          pull.loginUrl().getAuthority(),
          pull.apiUrl().getAuthority(),
          GenesysCheck.topics(pull.topics().size()),
          channels,
          channels == 1 ? "channel" : "channels");
      List<GenesysCheck.Result> results = GenesysCheck.run(pull, Clock.systemUTC());
      for (GenesysCheck.Result result : results) {
        System.out.printf(
            "%-7s %s: %s%n",
            result.outcome().name().toUpperCase(Locale.ROOT), result.check(), result.detail());
      }
      long failed =
          results.stream().filter(r -> r.outcome() == GenesysCheck.Outcome.FAILED).count();
      if (failed == 0) {
        System.out.printf("%s: every check passed%n", source);
        return 0;
      }
      System.out.printf("%s: %d check(s) failed%n", source, failed);
      return 1;
    }
  }
}
