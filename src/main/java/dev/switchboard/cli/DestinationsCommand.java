package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code switchboard destinations list|pause|resume}. */
@Command(
    name = "destinations",
    description = "List destinations with their live state; pause or resume one.",
    subcommands = {
      DestinationsCommand.ListAll.class,
      DestinationsCommand.Pause.class,
      DestinationsCommand.Resume.class
    })
final class DestinationsCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "list",
      description = "Every destination: state, breaker, queue, rate, last error.")
  static final class ListAll extends AdminCommand {
    @Override
    void run(AdminClient client, PrintWriter out) throws AdminClient.Failure {
      JsonNode list = client.get("/api/v1/destinations", Map.of());
      if (json()) {
        printJson(out, list);
        return;
      }
      Table table =
          new Table(
              "NAME",
              "TYPE",
              "STATE",
              "BREAKER",
              "IN FLIGHT",
              "QUEUE",
              "DEAD",
              "ATTEMPTS/S",
              "LAST ERROR");
      for (JsonNode d : list.path("items")) {
        table.row(
            d.path("name"),
            d.path("type"),
            state(d),
            d.path("breaker"),
            d.path("inFlight"),
            d.path("queueDepth"),
            d.path("deadLetters"),
            d.path("attemptsPerSecond"),
            lastError(d));
      }
      table.print(out);
    }

    static String state(JsonNode d) {
      if (!d.path("available").asBoolean(true)) {
        return "held";
      }
      if (d.path("paused").asBoolean()) {
        return "paused";
      }
      JsonNode hold = d.path("hold");
      if (hold.isObject()) {
        return "held until " + time(hold.path("until"));
      }
      if (!d.path("pausedUntil").isNull() && !d.path("pausedUntil").isMissingNode()) {
        return "waiting until " + time(d.path("pausedUntil"));
      }
      return "active";
    }

    static String lastError(JsonNode d) {
      if (!d.path("available").asBoolean(true)) {
        return d.path("unavailableReason").asText();
      }
      JsonNode hold = d.path("hold");
      if (hold.isObject() && hold.path("reason").isTextual()) {
        return "held: " + hold.path("reason").asText(); // what asked for the hold, and how long
      }
      JsonNode error = d.path("lastError");
      if (error.isNull() || error.isMissingNode()) {
        return null;
      }
      return time(d.path("lastErrorAt")) + " " + error.asText();
    }
  }

  /** Pause and resume: one destination by name. */
  abstract static class Toggle extends AdminCommand {
    @Parameters(paramLabel = "NAME", description = "the destination")
    String name;

    abstract String verb();

    @Override
    void run(AdminClient client, PrintWriter out) throws AdminClient.Failure {
      client.post("/api/v1/destinations/" + segment(name) + "/" + verb(), null);
      if (json()) {
        ObjectNode result = AdminClient.JSON.createObjectNode();
        result.put("destination", name).put("paused", verb().equals("pause"));
        printJson(out, result);
      } else {
        out.println(name + (verb().equals("pause") ? " paused" : " resumed"));
      }
    }
  }

  @Command(
      name = "pause",
      description = "Hold a destination's deliveries until resumed (survives restarts).")
  static final class Pause extends Toggle {
    @Override
    String verb() {
      return "pause";
    }
  }

  @Command(
      name = "resume",
      description =
          "Send a paused destination's deliveries again, in order; also ends a hold the"
              + " destination asked for (Retry-After, rate-limit reset).")
  static final class Resume extends Toggle {
    @Override
    String verb() {
      return "resume";
    }
  }
}
