package dev.switchboard.cli;

import java.net.URI;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Option;

/** Where the gateway is and how to prove we may ask: shared by the operator commands. */
final class AdminOptions {
  @Option(
      names = "--url",
      defaultValue = "${env:SWITCHBOARD_URL:-http://127.0.0.1:8080}",
      description = "the gateway (default: $SWITCHBOARD_URL or ${DEFAULT-VALUE})")
  URI url;

  @Option(
      names = "--token",
      defaultValue = "${env:SWITCHBOARD_ADMIN_TOKEN}",
      description = "the admin token (default: $SWITCHBOARD_ADMIN_TOKEN)")
  String token;

  @Option(names = "--json", description = "print the API's JSON instead of a table")
  boolean json;

  @Option(
      names = "--as",
      paramLabel = "NAME",
      description = "who you are, recorded with replays, discards and pauses (default: cli:$USER)")
  String actor;

  AdminClient client(SSLContext ssl) {
    String who = actor;
    if (who == null) {
      String user = System.getProperty("user.name", "");
      who = "cli:" + user.replaceAll("[^A-Za-z0-9@._:+-]", "");
    }
    return new AdminClient(url, token, who, ssl);
  }
}
