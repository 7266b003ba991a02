package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;

/**
 * {@code switchboard reload}: asks a running gateway to re-read its configuration file, like
 * SIGHUP, and prints what changed (or every problem of a bad file; exit 1, nothing changed).
 */
@Command(
    name = "reload",
    description = "Re-read and apply a running gateway's configuration file (like SIGHUP).")
final class ReloadCommand extends AdminCommand {
  private static final List<String> SECTIONS =
      List.of("sources", "routes", "destinations", "enrichers");

  @Override
  void run(AdminClient client, PrintWriter out) throws AdminClient.Failure {
    JsonNode result = client.post("/api/v1/config/reload", null);
    if (json()) {
      printJson(out, result);
      return;
    }
    List<String> lines = new ArrayList<>();
    for (String section : SECTIONS) {
      for (String kind : List.of("added", "removed", "changed")) {
        for (JsonNode name : result.path(section).path(kind)) {
          lines.add("  " + section + " " + kind + ": " + name.asText());
        }
      }
    }
    if (result.path("adminTokenChanged").asBoolean()) {
      lines.add("  admin token changed");
    }
    out.println(lines.isEmpty() ? "reloaded: nothing changed" : "reloaded:");
    lines.forEach(out::println);
    for (JsonNode warning : result.path("warnings")) {
      out.println("warning: " + warning.asText());
    }
  }
}
