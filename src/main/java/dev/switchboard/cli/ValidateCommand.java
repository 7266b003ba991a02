package dev.switchboard.cli;

import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.ConfigProblem;
import dev.switchboard.config.LiteralSecrets;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.tls.PemFileException;
import dev.switchboard.tls.ServerCertificate;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code switchboard validate FILE}: every problem with file, line and key; exit 1 if any. */
@Command(name = "validate", description = "Check a configuration file and report every problem.")
final class ValidateCommand implements Callable<Integer> {
  @Parameters(paramLabel = "FILE", description = "the YAML configuration")
  Path file;

  @Override
  public Integer call() {
    try {
      SwitchboardConfig config = ConfigLoader.load(file);
      System.out.printf(
          "%s: OK (%d source(s), %d route(s), %d destination(s))%n",
          file, config.sources().size(), config.routes().size(), config.destinations().size());
      warnAboutCertificate(config);
      LiteralSecrets.find(file).forEach(w -> System.err.println("warning: " + w));
      return 0;
    } catch (ConfigException e) {
      printProblems(file, e);
      return 1;
    }
  }

  /** Every problem on its own line (file:line: key: message), then how many; on stderr. */
  static void printProblems(Path file, ConfigException e) {
    for (ConfigProblem problem : e.problems()) {
      System.err.println(problem);
    }
    System.err.printf("%s: %d problem(s)%n", file, e.problems().size());
  }

  /** An expired HTTPS certificate is valid configuration, but senders will refuse it. */
  private void warnAboutCertificate(SwitchboardConfig config) {
    if (config.server().tls() == null) {
      return;
    }
    try {
      X509Certificate leaf =
          ServerCertificate.readCertificates(Path.of(config.server().tls().cert())).get(0);
      ServerCertificate.validityWarning(leaf, Instant.now())
          .ifPresent(w -> System.err.println("warning: server.tls.cert: " + w));
    } catch (PemFileException e) {
      // the loader has just read it; a file replaced since then is the next run's problem
    }
  }
}
