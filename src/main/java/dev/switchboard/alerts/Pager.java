package dev.switchboard.alerts;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.config.AlertsConfig;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The paging policy (docs/operational-events.md): a problem pages once per subject, then keeps
 * quiet for its kind's {@code quiet} period, counting what it held back, and sums it up in one
 * event at the end; a resolution of a problem that paged goes at once, with what was held back
 * until then. Worker thread only.
 */
final class Pager {

  /** A problem and the event that resolves it (null for none), paged and quieted together. */
  record Family(String problem, String resolved, String configKind) {
    Family(String problem, String resolved) {
      this(problem, resolved, problem);
    }
  }

  static final Family BREAKER =
      new Family("destination.breaker_opened", "destination.breaker_closed");
  static final Family HELD = new Family("destination.held", null);
  static final Family CREDENTIALS = new Family("destination.credentials_refused", null);
  static final Family REFUSING = new Family("source.refusing", "source.refusing.resolved");
  static final Family STORE = new Family("store.unwritable", "store.unwritable.resolved");
  static final Family BACKLOG = new Family("backlog.high", "backlog.high.resolved");
  static final Family SPIKE = new Family("source.rejections_spike", null);
  static final Family QUARANTINE = new Family("quarantine.added", null);
  static final Family DISCONNECTED = new Family("source.disconnected", "source.reconnected");

  /** One subject's page of one family: whether it is open, and what the quiet period held back. */
  private static final class Page {
    final Family family;
    boolean open;
    Instant quietUntil = Instant.MIN;
    int heldBack;
    ObjectNode last;
    boolean lastIsProblem;

    Page(Family family) {
      this.family = family;
    }
  }

  private final Supplier<AlertsConfig> config;
  private final Outbox outbox;
  private final Map<String, Page> pages = new HashMap<>();

  Pager(Supplier<AlertsConfig> config, Outbox outbox) {
    this.config = config;
    this.outbox = outbox;
  }

  void problem(
      Family family, ObjectNode subject, Instant at, ObjectNode data, String summary, String link) {
    AlertsConfig.Kind kind = config.get().kind(family.configKind());
    if (!kind.enabled()) {
      return;
    }
    ObjectNode event =
        Outbox.event(
            family.problem(), severity(family.problem()), subject, at, data, summary, link);
    String key = family.problem() + "|" + subject;
    Page page = pages.computeIfAbsent(key, k -> new Page(family));
    if (at.isBefore(page.quietUntil)) {
      hold(page, event, true);
      return;
    }
    page.open = true;
    page.heldBack = 0;
    page.last = null;
    page.quietUntil = at.plus(kind.quiet());
    outbox.send(event, key + "|" + at.toEpochMilli(), at);
  }

  void resolved(
      Family family, ObjectNode subject, Instant at, ObjectNode data, String summary, String link) {
    if (family.resolved() == null || !config.get().kind(family.configKind()).enabled()) {
      return;
    }
    Page page = pages.get(family.problem() + "|" + subject);
    if (page == null) {
      return; // nothing paged: nothing to resolve
    }
    if (page.open) {
      page.open = false;
      if (page.heldBack > 0) {
        // what the quiet period held back happened before this resolution: said here, not
        // later as if the problem were still on
        data.put("repeats", page.heldBack);
        page.heldBack = 0;
        page.last = null;
      }
      ObjectNode event = Outbox.event(family.resolved(), "info", subject, at, data, summary, link);
      outbox.send(event, family.resolved() + "|" + subject + "|" + at.toEpochMilli(), at);
    } else if (at.isBefore(page.quietUntil)) {
      hold(page, Outbox.event(family.resolved(), "info", subject, at, data, summary, link), false);
    }
  }

  private static void hold(Page page, ObjectNode event, boolean problem) {
    page.heldBack++;
    page.last = event;
    page.lastIsProblem = problem;
  }

  /** At the end of each quiet period, one summary of what it held back. */
  void flush(Instant now) {
    for (Iterator<Map.Entry<String, Page>> it = pages.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Page> entry = it.next();
      Page page = entry.getValue();
      if (now.isBefore(page.quietUntil)) {
        continue;
      }
      if (page.heldBack == 0) {
        if (!page.open) {
          it.remove();
        }
        continue;
      }
      ObjectNode summary = page.last;
      ((ObjectNode) summary.get("data")).put("repeats", page.heldBack).put("summary", true);
      summary.put(
          "summary",
          summary.path("summary").asText()
              + " ("
              + page.heldBack
              + " more in the quiet period; this is the latest)");
      summary.put("occurredAt", now.toString());
      page.open = page.lastIsProblem;
      page.heldBack = 0;
      page.last = null;
      page.quietUntil = now.plus(config.get().kind(page.family.configKind()).quiet());
      outbox.send(summary, entry.getKey() + "|summary|" + now.toEpochMilli(), now);
    }
  }

  private static String severity(String type) {
    return switch (type) {
      case "store.unwritable", "source.refusing" -> "critical";
      case "destination.breaker_opened", "destination.credentials_refused", "source.disconnected" ->
          "error";
      default -> "warning";
    };
  }
}
