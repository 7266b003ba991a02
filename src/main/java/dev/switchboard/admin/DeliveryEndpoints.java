package dev.switchboard.admin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.admin.ApiRouter.Reply;
import dev.switchboard.dispatch.DeliveryService;
import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.store.DeliveryFilter;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.store.PagePosition;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One delivery (with its attempts), its replay and discard, and the dead-letter queue: list, and
 * replay or discard in bulk by filter with a dry-run count first.
 */
final class DeliveryEndpoints {
  static final String CURSOR_KIND = "dead-letters";
  private static final Pattern DELIVERY_ID = Pattern.compile("dlv_[0-9a-f]{32}");
  private static final Set<String> BULK_KEYS =
      Set.of(
          "ids",
          "destination",
          "route",
          "from",
          "to",
          "errorClass",
          "includeDelivered",
          "all",
          "dryRun");

  private final DeliveryService deliveries;

  DeliveryEndpoints(DeliveryService deliveries) {
    this.deliveries = deliveries;
  }

  void register(ApiRouter api) {
    api.get(
        "/api/v1/dead-letters",
        Set.of("destination", "route", "from", "to", "errorClass", "limit", "cursor"),
        this::list);
    api.post("/api/v1/dead-letters/replay", Set.of(), r -> bulk(r, true));
    api.post("/api/v1/dead-letters/discard", Set.of(), r -> bulk(r, false));
    api.get("/api/v1/deliveries/{id}", Set.of(), this::show);
    api.post("/api/v1/deliveries/{id}/replay", Set.of(), this::replayOne);
    api.post("/api/v1/deliveries/{id}/discard", Set.of(), this::discardOne);
  }

  private Object list(ApiRequest r) {
    ApiRequest.TimeRange range = r.timeRange();
    DeliveryFilter filter =
        DeliveryFilter.deadLetters()
            .destination(r.query("destination"))
            .route(r.query("route"))
            .created(range.from(), range.to())
            .errorClass(r.query("errorClass"));
    int limit = r.limit();
    List<DeliveryRecord> found = deliveries.find(filter, r.cursor(CURSOR_KIND), limit + 1);
    String next = null;
    if (found.size() > limit) {
      found = found.subList(0, limit);
      DeliveryRecord last = found.get(limit - 1);
      next =
          ApiRequest.encodeCursor(
              CURSOR_KIND, new PagePosition(last.createdAt(), last.id().value()));
    }
    List<Views.Obj> items = new ArrayList<>();
    for (DeliveryRecord d : found) {
      items.add(Views.delivery(d));
    }
    return Views.obj().with("items", items).with("nextCursor", next);
  }

  private Object show(ApiRequest r) {
    DeliveryRecord d = find(r);
    return Views.delivery(d, deliveries.attempts(d.id()));
  }

  private Object replayOne(ApiRequest r) {
    DeliveryRecord d = find(r);
    if (!deliveries.replayOne(d.id(), r.actor())) {
      throw Problem.NOT_REPLAYABLE.with("this delivery is " + d.state().dbValue());
    }
    return Reply.noContent();
  }

  private Object discardOne(ApiRequest r) {
    DeliveryRecord d = find(r);
    if (!deliveries.discardOne(d.id(), r.actor())) {
      throw Problem.NOT_DISCARDABLE.with("this delivery is " + d.state().dbValue());
    }
    return Reply.noContent();
  }

  private DeliveryRecord find(ApiRequest r) {
    String id = r.path("id");
    DeliveryRecord d =
        DELIVERY_ID.matcher(id).matches()
            ? deliveries.delivery(new DeliveryId(id)).orElse(null)
            : null;
    if (d == null) {
      throw Problem.UNKNOWN_DELIVERY.with("no delivery with this id");
    }
    return d;
  }

  /** Replays or discards every match of the body's filter; with dryRun, only counts them. */
  private Object bulk(ApiRequest r, boolean replay) {
    JsonNode body = r.body();
    List<String> allowed =
        BULK_KEYS.stream().filter(k -> replay || !k.equals("includeDelivered")).sorted().toList();
    for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
      if (!allowed.contains(names.next())) {
        throw Problem.INVALID_BODY.with(
            "unknown field; this endpoint takes " + String.join(", ", allowed));
      }
    }
    Set<DeliveryState> states = EnumSet.of(DeliveryState.DEAD);
    if (flag(body, "includeDelivered")) {
      states.add(DeliveryState.DELIVERED);
    }
    Instant from = instant(body, "from");
    Instant to = instant(body, "to");
    if (from != null && to != null && !from.isBefore(to)) {
      throw Problem.INVALID_BODY.with("from: must be before to");
    }
    DeliveryFilter filter =
        new DeliveryFilter(
            ids(body),
            text(body, "destination"),
            text(body, "route"),
            states,
            from,
            to,
            text(body, "errorClass"));
    boolean narrowed =
        !filter.ids().isEmpty()
            || filter.destination() != null
            || filter.route() != null
            || from != null
            || to != null
            || filter.errorClass() != null;
    if (!narrowed && !flag(body, "all")) {
      throw Problem.FILTER_REQUIRED.with(
          "name ids, destination, route, from, to or errorClass; or say all: true");
    }
    if (flag(body, "dryRun")) {
      return Views.obj().with("dryRun", true).with("matched", deliveries.count(filter));
    }
    String by = r.actor();
    return replay
        ? Views.obj().with("dryRun", false).with("replayed", deliveries.replay(filter, by))
        : Views.obj().with("dryRun", false).with("discarded", deliveries.discard(filter, by));
  }

  private static List<DeliveryId> ids(JsonNode body) {
    JsonNode node = body.get("ids");
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isArray() || node.size() > 1_000) {
      throw Problem.INVALID_BODY.with("ids: expected an array of at most 1000 delivery ids");
    }
    List<DeliveryId> ids = new ArrayList<>();
    for (JsonNode id : node) {
      if (!id.isTextual() || !DELIVERY_ID.matcher(id.asText()).matches()) {
        throw Problem.INVALID_BODY.with("ids: expected delivery ids such as dlv_0123…");
      }
      ids.add(new DeliveryId(id.asText()));
    }
    return ids;
  }

  static String text(JsonNode body, String name) {
    JsonNode node = body.get(name);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual() || node.asText().isBlank()) {
      throw Problem.INVALID_BODY.with(name + ": expected a non-empty string");
    }
    return node.asText().strip();
  }

  static boolean flag(JsonNode body, String name) {
    JsonNode node = body.get(name);
    if (node == null || node.isNull()) {
      return false;
    }
    if (!node.isBoolean()) {
      throw Problem.INVALID_BODY.with(name + ": expected true or false");
    }
    return node.asBoolean();
  }

  static Instant instant(JsonNode body, String name) {
    String value = text(body, name);
    Instant instant;
    try {
      instant = value == null ? null : Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw Problem.INVALID_BODY.with(
          name + ": expected an ISO-8601 instant such as 2026-10-27T14:30:00Z");
    }
    if (instant != null && !ApiRequest.storable(instant)) {
      throw Problem.INVALID_BODY.with(name + ": expected an instant in the years 1 to 9999");
    }
    return instant;
  }
}
