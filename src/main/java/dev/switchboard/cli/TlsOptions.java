package dev.switchboard.cli;

import dev.switchboard.tls.ClientTrust;
import dev.switchboard.tls.PemFileException;
import java.io.PrintWriter;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** How the commands that call a gateway trust its HTTPS certificate: shared by all of them. */
final class TlsOptions {
  @Option(
      names = "--ca-cert",
      paramLabel = "FILE",
      description =
          "for an https gateway: also trust this PEM certificate (a private CA, or the gateway's"
              + " self-signed certificate)")
  Path caCert;

  @Option(
      names = "--insecure",
      description = "for an https gateway: trust any certificate (test benches only)")
  boolean insecure;

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  /**
   * The SSL context for the command's HTTP client, or null for the JDK's default (the system's
   * CAs). Warns on the command's error stream when nothing is checked.
   *
   * @throws PemFileException when {@code --ca-cert} names an unusable file
   */
  SSLContext sslContext() throws PemFileException {
    if (insecure) {
      PrintWriter err = mixee.commandLine().getErr();
      err.println(
          "warning: --insecure: the gateway's certificate is not checked; anyone on the network"
              + " path can read and change this traffic");
      err.flush();
      return ClientTrust.trustingAnything();
    }
    return caCert == null ? null : ClientTrust.trusting(caCert);
  }
}
