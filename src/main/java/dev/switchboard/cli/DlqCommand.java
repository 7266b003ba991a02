package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code switchboard dlq list|replay|discard}: the dead-letter queue. */
@Command(
    name = "dlq",
    description = "List, replay or discard dead letters (one by id, or in bulk by filter).",
    subcommands = {DlqCommand.ListDead.class, DlqCommand.Replay.class, DlqCommand.Discard.class})
final class DlqCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The filters the API's dead-letter list and bulk actions share. */
  static final class Filter {
    @Option(names = "--destination")
    String destination;

    @Option(names = "--route")
    String route;

    @Option(
        names = "--from",
        converter = AdminCommand.When.class,
        description = "event arrived at or after: ISO-8601 or an age (15m, 2h, 3d)")
    Instant from;

    @Option(names = "--to", converter = AdminCommand.When.class, description = "arrived before")
    Instant to;

    @Option(
        names = "--error-class",
        description = "http_4xx, http_5xx, timeout, connection, transform, max_age, filter")
    String errorClass;

    boolean isEmpty() {
      return destination == null
          && route == null
          && from == null
          && to == null
          && errorClass == null;
    }

    ObjectNode toJson() {
      ObjectNode body = AdminClient.JSON.createObjectNode();
      putIfSet(body, "destination", destination);
      putIfSet(body, "route", route);
      putIfSet(body, "from", AdminCommand.iso(from));
      putIfSet(body, "to", AdminCommand.iso(to));
      putIfSet(body, "errorClass", errorClass);
      return body;
    }

    private static void putIfSet(ObjectNode body, String name, String value) {
      if (value != null) {
        body.put(name, value);
      }
    }
  }

  @Command(name = "list", description = "Dead letters, newest first; one page at a time.")
  static final class ListDead extends AdminCommand {
    @Mixin Filter filter;

    @Option(names = "--limit", description = "rows per page (1-500, default 50)")
    Integer limit;

    @Option(names = "--cursor", description = "the next page, as printed after a page")
    String cursor;

    @Override
    void run(AdminClient client, PrintWriter out) throws AdminClient.Failure {
      Map<String, String> q = new LinkedHashMap<>();
      q.put("destination", filter.destination);
      q.put("route", filter.route);
      q.put("from", iso(filter.from));
      q.put("to", iso(filter.to));
      q.put("errorClass", filter.errorClass);
      q.put("limit", limit == null ? null : limit.toString());
      q.put("cursor", cursor);
      JsonNode page = client.get("/api/v1/dead-letters", q);
      if (json()) {
        printJson(out, page);
        return;
      }
      Table table =
          new Table(
              "ARRIVED",
              "DELIVERY",
              "EVENT",
              "DESTINATION",
              "ROUTE",
              "ERROR CLASS",
              "ATTEMPTS",
              "LAST ERROR");
      for (JsonNode d : page.path("items")) {
        table.row(
            time(d.path("createdAt")),
            d.path("id"),
            d.path("eventId"),
            d.path("destination"),
            d.path("route"),
            d.path("errorClass"),
            d.path("attemptsInRound"),
            d.path("lastError"));
      }
      table.print(out);
      if (table.size() == 0) {
        out.println("no dead letters match");
      }
      nextPageHint(out, page);
    }
  }

  /** Replay and discard: by ids, or every dead letter matching the filter; --dry-run counts. */
  abstract static class BulkAction extends AdminCommand {
    @Parameters(paramLabel = "DELIVERY_ID", arity = "0..*", description = "dead letters by id")
    List<String> ids = List.of();

    @Mixin Filter filter;

    @Option(names = "--all", description = "every dead letter (when no id or filter is given)")
    boolean all;

    @Option(names = "--dry-run", description = "only count what would be touched")
    boolean dryRun;

    abstract String verb();

    abstract String endpoint();

    void extra(ObjectNode body) {}

    @Override
    void run(AdminClient client, PrintWriter out) throws AdminClient.Failure {
      if (ids.isEmpty() && filter.isEmpty() && !all) {
        throw new AdminClient.Failure(
            2,
            "name delivery ids or a filter (--destination, --route, --from, --to, --error-class),"
                + " or say --all");
      }
      if (ids.size() == 1 && filter.isEmpty() && !dryRun && !all && !includesDelivered()) {
        // one by id: the gateway then says precisely why it cannot (unknown, wrong state)
        client.post("/api/v1/deliveries/" + segment(ids.get(0)) + "/" + verb(), null);
        report(out, 1, false);
        return;
      }
      ObjectNode body = filter.toJson();
      if (!ids.isEmpty()) {
        ids.forEach(body.putArray("ids")::add);
      }
      if (all) {
        body.put("all", true);
      }
      if (dryRun) {
        body.put("dryRun", true);
      }
      extra(body);
      JsonNode answer = client.post(endpoint(), body);
      if (json()) {
        printJson(out, answer);
        return;
      }
      long n = dryRun ? answer.path("matched").asLong() : answer.path(verb() + "ed").asLong();
      report(out, n, dryRun);
    }

    boolean includesDelivered() {
      return false;
    }

    private void report(PrintWriter out, long n, boolean dry) {
      if (json()) {
        ObjectNode result = AdminClient.JSON.createObjectNode();
        result.put("dryRun", dry).put(dry ? "matched" : verb() + "ed", n);
        printJson(out, result);
        return;
      }
      out.println(
          (dry ? "would " + verb() + " " : verb() + "ed ")
              + n
              + " delivery(ies)"
              + (dry ? " (dry run: nothing changed)" : ""));
    }
  }

  @Command(
      name = "replay",
      description = "Send dead letters again, with their original idempotency keys.")
  static final class Replay extends BulkAction {
    @Option(names = "--include-delivered", description = "replay delivered ones too")
    boolean includeDelivered;

    @Override
    String verb() {
      return "replay";
    }

    @Override
    String endpoint() {
      return "/api/v1/dead-letters/replay";
    }

    @Override
    boolean includesDelivered() {
      return includeDelivered;
    }

    @Override
    void extra(ObjectNode body) {
      if (includeDelivered) {
        body.put("includeDelivered", true);
      }
    }
  }

  @Command(
      name = "discard",
      description = "Give up on dead letters for good (they become skipped).")
  static final class Discard extends BulkAction {
    @Override
    String verb() {
      return "discard";
    }

    @Override
    String endpoint() {
      return "/api/v1/dead-letters/discard";
    }
  }
}
