package dev.switchboard.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.dispatch.DeliveryService;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.ingest.QuarantineService;
import dev.switchboard.route.BodyPreview;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.store.EventPage;
import dev.switchboard.store.EventQuery;
import dev.switchboard.store.EventStore;
import dev.switchboard.store.EventSummary;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Events search, the quarantine and its release (one event, or in bulk by source and time range
 * with a dry-run count first), and one event with its deliveries and every attempt.
 */
final class EventEndpoints {
  static final String CURSOR_KIND = "events";
  private static final Pattern EVENT_ID = Pattern.compile("evt_[0-9a-f]{32}");
  private static final Map<String, EventStatus> STATUSES =
      Map.of("accepted", EventStatus.ACCEPTED, "quarantined", EventStatus.QUARANTINED);

  private static final List<String> RELEASE_KEYS = List.of("dryRun", "from", "source", "to");

  private final EventStore events;
  private final DeliveryService deliveries;
  private final QuarantineService quarantine;

  /**
   * @param quarantine releases quarantined events, or null when this gateway cannot
   */
  EventEndpoints(EventStore events, DeliveryService deliveries, QuarantineService quarantine) {
    this.events = events;
    this.deliveries = deliveries;
    this.quarantine = quarantine;
  }

  void register(ApiRouter api) {
    api.get(
        "/api/v1/events",
        Set.of(
            "source",
            "status",
            "from",
            "to",
            "partitionKey",
            "idempotencyKey",
            "q",
            "limit",
            "cursor"),
        r -> search(r, r.choice("status", STATUSES)));
    api.get(
        "/api/v1/quarantine",
        Set.of("source", "from", "to", "limit", "cursor"),
        r -> search(r, EventStatus.QUARANTINED));
    api.get("/api/v1/events/{id}", Set.of(), this::show);
    api.post("/api/v1/events/{id}/release", Set.of(), this::releaseOne);
    api.post("/api/v1/quarantine/release", Set.of(), this::releaseBulk);
  }

  private QuarantineService quarantine() {
    if (quarantine == null) {
      throw Problem.NOT_FOUND.with("this gateway cannot release quarantined events");
    }
    return quarantine;
  }

  private Object releaseOne(ApiRequest r) {
    QuarantineService service = quarantine();
    String id = r.path("id");
    if (!EVENT_ID.matcher(id).matches()) {
      throw Problem.UNKNOWN_EVENT.with("no event with this id");
    }
    return switch (service.release(new EventId(id), r.actor())) {
      case QuarantineService.Outcome.Released released ->
          Views.obj()
              .with("eventId", id)
              .with("status", EventStatus.ACCEPTED.dbValue())
              .with("quarantineReason", null)
              .with("deliveries", released.deliveries());
      case QuarantineService.Outcome.StillQuarantined still ->
          Views.obj()
              .with("eventId", id)
              .with("status", EventStatus.QUARANTINED.dbValue())
              .with("quarantineReason", still.reason())
              .with("deliveries", 0);
      case QuarantineService.Outcome.NotReleasable no ->
          throw Problem.NOT_RELEASABLE.with(no.why());
      case QuarantineService.Outcome.Unknown u ->
          throw Problem.UNKNOWN_EVENT.with("no event with this id");
    };
  }

  /** Releases every quarantined event of a source in a time range; with dryRun, only counts. */
  private Object releaseBulk(ApiRequest r) {
    QuarantineService service = quarantine();
    JsonNode body = r.body();
    for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
      if (!RELEASE_KEYS.contains(names.next())) {
        throw Problem.INVALID_BODY.with(
            "unknown field; this endpoint takes " + String.join(", ", RELEASE_KEYS));
      }
    }
    String source = DeliveryEndpoints.text(body, "source");
    if (source == null) {
      throw Problem.INVALID_BODY.with("source: a bulk release names its source");
    }
    if (!service.hasSource(source)) {
      throw Problem.INVALID_BODY.with("source: no source of this name is configured");
    }
    Instant from = DeliveryEndpoints.instant(body, "from");
    Instant to = DeliveryEndpoints.instant(body, "to");
    if (from != null && to != null && !from.isBefore(to)) {
      throw Problem.INVALID_BODY.with("from: must be before to");
    }
    if (DeliveryEndpoints.flag(body, "dryRun")) {
      return Views.obj().with("dryRun", true).with("matched", service.count(source, from, to));
    }
    QuarantineService.Bulk done = service.releaseAll(source, from, to, r.actor());
    return Views.obj()
        .with("dryRun", false)
        .with("matched", done.matched())
        .with("released", done.released())
        .with("stillQuarantined", done.stillQuarantined());
  }

  private Object search(ApiRequest r, EventStatus status) {
    ApiRequest.TimeRange range = r.timeRange();
    EventQuery query =
        new EventQuery(
            r.query("source"),
            status,
            range.from(),
            range.to(),
            r.query("partitionKey"),
            r.query("idempotencyKey"),
            r.query("q"),
            r.cursor(CURSOR_KIND),
            r.limit());
    EventPage page = events.searchEvents(query);
    List<Views.Obj> items = new ArrayList<>();
    for (EventSummary e : page.events()) {
      items.add(Views.summary(e));
    }
    return Views.obj()
        .with("items", items)
        .with(
            "nextCursor",
            page.next() == null ? null : ApiRequest.encodeCursor(CURSOR_KIND, page.next()))
        .with("scanLimited", page.scanLimited());
  }

  private Object show(ApiRequest r) {
    String id = r.path("id");
    Event event =
        EVENT_ID.matcher(id).matches() ? events.findEvent(new EventId(id)).orElse(null) : null;
    if (event == null) {
      throw Problem.UNKNOWN_EVENT.with("no event with this id");
    }
    List<Views.Obj> shown = new ArrayList<>();
    for (DeliveryRecord d : deliveries.deliveriesOf(event.id())) {
      BodyPreview body = deliveries.preview(event, d.route());
      shown.add(
          Views.delivery(d, deliveries.attempts(d.id()))
              .with("body", body.body())
              .with("bodyNote", body.note()));
    }
    return Views.event(event, shown);
  }
}
