package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code switchboard events search|show|release}: find events, see what became of them, and release
 * quarantined ones.
 */
@Command(
    name = "events",
    description =
        "Search events, show one with its deliveries and attempts, release quarantined ones.",
    subcommands = {
      EventsCommand.Search.class,
      EventsCommand.Show.class,
      EventsCommand.Release.class
    })
final class EventsCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "search", description = "Events, newest first, filtered; one page at a time.")
  static final class Search extends AdminCommand {
    @Option(names = "--source")
    String source;

    @Option(names = "--status", description = "accepted or quarantined")
    String status;

    @Option(
        names = "--from",
        converter = When.class,
        description = "received at or after: ISO-8601 or an age (15m, 2h, 3d)")
    Instant from;

    @Option(names = "--to", converter = When.class, description = "received before")
    Instant to;

    @Option(names = "--partition-key")
    String partitionKey;

    @Option(names = "--idempotency-key")
    String idempotencyKey;

    @Option(names = "--text", description = "text the stored (redacted) payload contains")
    String text;

    @Option(names = "--limit", description = "rows per page (1-500, default 50)")
    Integer limit;

    @Option(names = "--cursor", description = "the next page, as printed after a page")
    String cursor;

    @Override
    void run(AdminClient client, PrintWriter out) throws AdminClient.Failure {
      Map<String, String> q = new LinkedHashMap<>();
      q.put("source", source);
      q.put("status", status);
      q.put("from", iso(from));
      q.put("to", iso(to));
      q.put("partitionKey", partitionKey);
      q.put("idempotencyKey", idempotencyKey);
      q.put("q", text);
      q.put("limit", limit == null ? null : limit.toString());
      q.put("cursor", cursor);
      JsonNode page = client.get("/api/v1/events", q);
      if (json()) {
        printJson(out, page);
        return;
      }
      Table table =
          new Table("RECEIVED", "EVENT", "SOURCE", "STATUS", "PARTITION KEY", "DELIVERIES");
      for (JsonNode e : page.path("items")) {
        table.row(
            time(e.path("receivedAt")),
            e.path("id"),
            e.path("source"),
            e.path("status"),
            e.path("partitionKey"),
            deliveries(e.path("deliveries")));
      }
      table.print(out);
      if (table.size() == 0) {
        out.println("no events match");
      }
      if (page.path("scanLimited").asBoolean()) {
        out.println(
            "(the text search stopped at its scan bound; the next page looks further back)");
      }
      nextPageHint(out, page);
    }

    private static String deliveries(JsonNode counts) {
      StringBuilder text = new StringBuilder();
      for (Iterator<Map.Entry<String, JsonNode>> it = counts.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> c = it.next();
        text.append(text.isEmpty() ? "" : " ").append(c.getKey()).append(':').append(c.getValue());
      }
      return text.toString();
    }
  }

  @Command(name = "show", description = "One event: payload as stored, deliveries, every attempt.")
  static final class Show extends AdminCommand {
    @Parameters(paramLabel = "EVENT_ID")
    String id;

    @Override
    void run(AdminClient client, PrintWriter out) throws AdminClient.Failure {
      JsonNode e = client.get("/api/v1/events/" + segment(id), Map.of());
      if (json()) {
        printJson(out, e);
        return;
      }
      Table head = new Table("FIELD", "VALUE");
      head.row("event", e.path("id"))
          .row("source", e.path("source"))
          .row("status", e.path("status"))
          .row("quarantine reason", e.path("quarantineReason"))
          .row("received", time(e.path("receivedAt")))
          .row("event time", time(e.path("eventTime")))
          .row("partition key", e.path("partitionKey"))
          .row("idempotency key", e.path("idempotencyKey"));
      head.print(out);
      out.println();
      out.println("headers: " + e.path("headers"));
      out.println("payload (as stored, after redaction):");
      printJson(out, e.path("payload"));
      JsonNode deliveries = e.path("deliveries");
      if (deliveries.isEmpty()) {
        out.println("no deliveries");
        return;
      }
      for (JsonNode d : deliveries) {
        out.println();
        out.printf(
            "delivery %s  route %s -> %s  %s%s%n",
            d.path("id").asText(),
            d.path("route").asText(),
            d.path("destination").asText(),
            d.path("state").asText(),
            d.path("lastError").isNull() ? "" : "  (" + d.path("lastError").asText() + ")");
        Table attempts =
            new Table("#", "STARTED", "MS", "STATUS", "OUTCOME", "ERROR", "ANSWER EXCERPT");
        for (JsonNode a : d.path("attempts")) {
          attempts.row(
              a.path("number"),
              time(a.path("startedAt")),
              a.path("durationMs"),
              a.path("status").asInt() == 0 ? "-" : a.path("status"),
              a.path("outcome"),
              a.path("error"),
              a.path("excerpt"));
        }
        if (attempts.size() == 0) {
          out.println("  no attempts yet");
        } else {
          attempts.print(out);
        }
      }
    }
  }

  @Command(
      name = "release",
      description =
          "Check quarantined events against their source's schema as configured now and deliver"
              + " those that pass (one by id, or every one of a source in a time range).")
  static final class Release extends AdminCommand {
    @Parameters(paramLabel = "EVENT_ID", arity = "0..1", description = "one quarantined event")
    String id;

    @Option(names = "--source", description = "every quarantined event of this source")
    String source;

    @Option(
        names = "--from",
        converter = When.class,
        description = "received at or after: ISO-8601 or an age (15m, 2h, 3d)")
    Instant from;

    @Option(names = "--to", converter = When.class, description = "received before")
    Instant to;

    @Option(names = "--dry-run", description = "only count what would be looked at")
    boolean dryRun;

    @Override
    void run(AdminClient client, PrintWriter out) throws AdminClient.Failure {
      if ((id == null) == (source == null)) {
        throw new AdminClient.Failure(
            2, "name one EVENT_ID, or --source (with --from and --to if you like)");
      }
      if (id != null) {
        if (from != null || to != null || dryRun) {
          throw new AdminClient.Failure(2, "--from, --to and --dry-run go with --source");
        }
        JsonNode answer = client.post("/api/v1/events/" + segment(id) + "/release", null);
        if (json()) {
          printJson(out, answer);
        } else if ("accepted".equals(answer.path("status").asText())) {
          out.println(
              "released " + id + " with " + answer.path("deliveries").asInt() + " delivery(ies)");
        } else {
          out.println(
              id
                  + " still fails its schema and stays quarantined: "
                  + answer.path("quarantineReason").asText());
        }
        return;
      }
      ObjectNode body = AdminClient.JSON.createObjectNode();
      body.put("source", source);
      if (from != null) {
        body.put("from", iso(from));
      }
      if (to != null) {
        body.put("to", iso(to));
      }
      if (dryRun) {
        body.put("dryRun", true);
      }
      JsonNode answer = client.post("/api/v1/quarantine/release", body);
      if (json()) {
        printJson(out, answer);
      } else if (dryRun) {
        out.println(
            "would release "
                + answer.path("matched").asLong()
                + " event(s) if they pass (dry run: nothing changed)");
      } else {
        out.println(
            "released "
                + answer.path("released").asLong()
                + " event(s); "
                + answer.path("stillQuarantined").asLong()
                + " still quarantined (of "
                + answer.path("matched").asLong()
                + " looked at)");
      }
    }
  }
}
