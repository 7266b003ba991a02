package dev.switchboard.admin;

import dev.switchboard.dispatch.DeliveryService;
import dev.switchboard.dispatch.Dispatcher;
import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.store.EventPage;
import dev.switchboard.store.EventQuery;
import dev.switchboard.store.EventStore;
import dev.switchboard.store.EventSummary;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Events search, the quarantine, and one event with its deliveries and every attempt. */
final class EventEndpoints {
  static final String CURSOR_KIND = "events";
  private static final Pattern EVENT_ID = Pattern.compile("evt_[0-9a-f]{32}");
  private static final Map<String, EventStatus> STATUSES =
      Map.of("accepted", EventStatus.ACCEPTED, "quarantined", EventStatus.QUARANTINED);

  private final EventStore events;
  private final DeliveryService deliveries;

  EventEndpoints(EventStore events, DeliveryService deliveries) {
    this.events = events;
    this.deliveries = deliveries;
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
      Dispatcher.BodyPreview body = deliveries.preview(event, d.route());
      shown.add(
          Views.delivery(d, deliveries.attempts(d.id()))
              .with("body", body.body())
              .with("bodyNote", body.note()));
    }
    return Views.event(event, shown);
  }
}
