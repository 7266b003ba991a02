package dev.switchboard.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.switchboard.store.PagePosition;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One admin request as handlers read it: typed query parameters, path parameters, the JSON body and
 * who is acting. Every malformed input becomes a {@link Problem} naming the parameter, never
 * quoting its value.
 */
final class ApiRequest {
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 500;

  /** Header an operator's tool may set to say who acts; recorded with replays and discards. */
  static final String ACTOR_HEADER = "X-Switchboard-Actor";

  private static final Pattern DURATION = Pattern.compile("([1-9][0-9]{0,5})(s|m|h)");
  private static final Pattern ID = Pattern.compile("[a-z]{3}_[0-9a-f]{32}");
  private static final Pattern ACTOR = Pattern.compile("[A-Za-z0-9@._:+-]{1,64}");

  private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999Z");

  private final Context ctx;

  ApiRequest(Context ctx) {
    this.ctx = ctx;
  }

  String path(String name) {
    return ctx.pathParam(name);
  }

  /** A query parameter, or null when absent or blank. */
  String query(String name) {
    String value = ctx.queryParam(name);
    return value == null || value.isBlank() ? null : value.strip();
  }

  Instant instant(String name) {
    String value = query(name);
    if (value == null) {
      return null;
    }
    Instant instant;
    try {
      instant = Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw Problem.INVALID_PARAMETER.with(
          name + ": expected an ISO-8601 instant such as 2026-10-27T14:30:00Z");
    }
    if (!storable(instant)) {
      throw Problem.INVALID_PARAMETER.with(name + ": expected an instant in the years 1 to 9999");
    }
    return instant;
  }

  /** Whether the store can compare it: epoch milliseconds overflow in years like +1000000000. */
  static boolean storable(Instant instant) {
    return !instant.isBefore(EARLIEST) && !instant.isAfter(LATEST);
  }

  /** An arrival-time range; either end may be open (null). */
  record TimeRange(Instant from, Instant to) {}

  /** {@code from} and {@code to}, checked to be in order. */
  TimeRange timeRange() {
    Instant from = instant("from");
    Instant to = instant("to");
    if (from != null && to != null && !from.isBefore(to)) {
      throw Problem.INVALID_PARAMETER.with("from: must be before to");
    }
    return new TimeRange(from, to);
  }

  int limit() {
    String value = query("limit");
    if (value == null) {
      return DEFAULT_LIMIT;
    }
    try {
      int limit = Integer.parseInt(value);
      if (limit >= 1 && limit <= MAX_LIMIT) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw Problem.INVALID_PARAMETER.with("limit: expected a whole number from 1 to " + MAX_LIMIT);
  }

  /** A duration such as 30s, 15m or 1h. */
  Duration duration(String name, Duration fallback, Duration max) {
    String value = query(name);
    if (value == null) {
      return fallback;
    }
    Matcher m = DURATION.matcher(value);
    if (!m.matches()) {
      throw Problem.INVALID_PARAMETER.with(name + ": expected a duration such as 30s, 15m or 1h");
    }
    long n = Long.parseLong(m.group(1));
    Duration d =
        switch (m.group(2)) {
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofHours(n);
        };
    if (d.compareTo(max) > 0) {
      throw Problem.INVALID_PARAMETER.with(name + ": at most " + max.toMinutes() + "m");
    }
    return d;
  }

  /** One of {@code choices} by its name, or null when absent. */
  <T> T choice(String name, Map<String, T> choices) {
    String value = query(name);
    if (value == null) {
      return null;
    }
    T chosen = choices.get(value);
    if (chosen == null) {
      throw Problem.INVALID_PARAMETER.with(
          name + ": expected one of " + String.join(", ", choices.keySet()));
    }
    return chosen;
  }

  /** The {@code cursor} parameter, which must come from a page of the same {@code kind}. */
  PagePosition cursor(String kind) {
    String value = query("cursor");
    return value == null ? null : decodeCursor(kind, value);
  }

  /** The JSON object in the body; an empty body is an empty object. */
  JsonNode body() {
    byte[] raw = ctx.bodyAsBytes();
    if (raw.length == 0) {
      return JsonNodeFactory.instance.objectNode();
    }
    try {
      JsonNode node = Views.JSON.readTree(raw);
      if (node == null || !node.isObject()) {
        throw Problem.INVALID_BODY.with("expected a JSON object");
      }
      return node;
    } catch (IOException e) {
      throw Problem.INVALID_BODY.with("the body is not valid JSON");
    }
  }

  /** Who acts, for the audit fields: the admin API, and the operator's name if the tool says. */
  String actor() {
    String said = ctx.header(ACTOR_HEADER);
    if (said != null && ACTOR.matcher(said).matches()) {
      return "admin-api:" + said;
    }
    return "admin-api";
  }

  static String encodeCursor(String kind, PagePosition position) {
    String raw = kind + "|" + position.at().toEpochMilli() + "|" + position.id();
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  static PagePosition decodeCursor(String kind, String cursor) {
    try {
      String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      String[] parts = raw.split("\\|", -1);
      if (parts.length == 3 && parts[0].equals(kind) && ID.matcher(parts[2]).matches()) {
        return new PagePosition(Instant.ofEpochMilli(Long.parseLong(parts[1])), parts[2]);
      }
    } catch (IllegalArgumentException e) {
      // answered below (NumberFormatException is one)
    }
    throw Problem.INVALID_CURSOR.with("pass back the cursor of the previous page unchanged");
  }
}
