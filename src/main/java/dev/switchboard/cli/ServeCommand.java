package dev.switchboard.cli;

import dev.switchboard.app.Gateway;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.ConfigProblem;
import dev.switchboard.config.LiteralSecrets;
import dev.switchboard.config.SwitchboardConfig;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code switchboard serve --config FILE}: run the gateway until SIGTERM/SIGINT. */
@Command(name = "serve", description = "Run the gateway.")
final class ServeCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);
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
    LiteralSecrets.find(config).forEach(w -> LOG.warn("configuration: {}", w));
    Gateway gateway;
    try {
      gateway = Gateway.start(loaded, Clock.systemUTC());
    } catch (RuntimeException e) {
      System.err.println("switchboard: cannot start: " + e.getMessage());
      return 1;
    }
    // SIGTERM and SIGINT stop gracefully and exit 0; the hook covers any other way out (close is
    // idempotent). SIGHUP reloads the configuration file.
    Runtime.getRuntime().addShutdownHook(new Thread(gateway::close, "shutdown"));
    handle("TERM", () -> stopOnOwnThread(gateway));
    handle("INT", () -> stopOnOwnThread(gateway));
    handle("HUP", () -> reload(gateway));
    System.err.printf(
        "switchboard serving on %s://%s:%d/hooks/{source} (store: %s)%n",
        loaded.server().tls() != null ? "https" : "http",
        displayHost(loaded.server().host()),
        gateway.port(),
        loaded.store().path());
    serving = true;
    return 0;
  }

  private static void handle(String signal, Runnable action) {
    try {
      Signal.handle(new Signal(signal), s -> action.run());
    } catch (IllegalArgumentException e) {
      // not every platform has every signal (Windows has no HUP): that trigger is simply absent
      LOG.debug("no SIG{} handling on this platform: {}", signal, e.getMessage());
    }
  }

  /**
   * Signal handlers run on daemon threads: once the listener's threads have stopped, nothing would
   * keep the JVM alive, and it would exit halfway through {@link Gateway#close} (before the store
   * has written what it was handed and closed). A non-daemon thread does the stop instead.
   */
  private static void stopOnOwnThread(Gateway gateway) {
    Thread stopping = new Thread(() -> stop(gateway), "stop");
    stopping.setDaemon(false);
    stopping.start();
  }

  private static void stop(Gateway gateway) {
    gateway.close();
    System.exit(0);
  }

  /** A bad file is logged problem by problem (locations and messages, never values). */
  private static void reload(Gateway gateway) {
    try {
      gateway.reload();
    } catch (ConfigException e) {
      LOG.warn(
          "configuration reload refused, the running configuration is unchanged: {} problem(s)",
          e.problems().size());
      for (ConfigProblem problem : e.problems()) {
        LOG.warn("configuration problem: {}", problem);
      }
    } catch (RuntimeException e) {
      LOG.warn("configuration reload failed: {}", e.getMessage());
    }
  }

  private static String displayHost(String host) {
    return "0.0.0.0".equals(host) ? "127.0.0.1" : host;
  }
}
