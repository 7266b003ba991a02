package dev.switchboard.cli;

import dev.switchboard.app.Gateway;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.ConfigProblem;
import dev.switchboard.config.SwitchboardConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code switchboard serve --config FILE}: run the gateway until SIGTERM/SIGINT. */
@Command(name = "serve", description = "Run the gateway.")
final class ServeCommand implements Callable<Integer> {
  private static volatile boolean serving;

  @Option(
      names = {"-c", "--config"},
      required = true,
      description = "the YAML configuration")
  Path config;

  static boolean isServing() {
    return serving;
  }

  @Override
  public Integer call() throws Exception {
    SwitchboardConfig loaded;
    try {
      loaded = ConfigLoader.load(config);
    } catch (ConfigException e) {
      for (ConfigProblem problem : e.problems()) {
        System.err.println(problem);
      }
      return 2;
    }
    Gateway gateway;
    try {
      gateway = Gateway.start(loaded, Clock.systemUTC());
    } catch (RuntimeException e) {
      System.err.println("switchboard: cannot start: " + e.getMessage());
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(gateway::close, "shutdown"));
    System.err.printf(
        "switchboard serving on %s://%s:%d/hooks/{source} (store: %s)%n",
        loaded.server().tls() != null ? "https" : "http",
        displayHost(loaded.server().host()),
        gateway.port(),
        loaded.store().path());
    serving = true;
    return 0;
  }

  private static String displayHost(String host) {
    return "0.0.0.0".equals(host) ? "127.0.0.1" : host;
  }
}
