package dev.switchboard.pull.genesys;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.config.PullConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the source derives from one Notification API envelope ({@code {topicName, version,
 * eventBody, metadata}}) for ingest (docs/sources.md, "Genesys Cloud notifications"): the
 * de-duplication key and the event time a source without {@code idempotency:} or {@code
 * event_time:} uses.
 *
 * <p>The key is {@code topicName|id|latest}: the entity's id ({@code eventBody.id}, or {@code
 * conversationId}) and the latest time anywhere in the body. A conversation's snapshots differ in
 * their latest time, so each change is its own event; the same snapshot arriving on two overlapping
 * channels, or rebuilt by a backfill from the conversation's analytics record, is the same event. A
 * body with neither id nor time is keyed by a digest of its text.
 */
final class Messages {
  static final String HEARTBEAT_TOPIC = "channel.metadata";
  static final String SOCKET_CLOSING_TOPIC = "v2.system.socket_closing";

  /** ISO-8601 instants as Genesys writes them ({@code 2026-04-14T10:09:20.118Z}). */
  private static final Pattern ISO =
      Pattern.compile(
          "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})");

  private Messages() {}

  /** The headers a pulled event is ingested with (the key and time headers). */
  static Map<String, String> headers(JsonNode envelope, String text) {
    String topic = envelope.path("topicName").asText("");
    JsonNode body = envelope.path("eventBody");
    String id = body.path("id").asText(body.path("conversationId").asText(""));
    Instant latest = latestTime(body);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("content-type", "application/json");
    headers.put("x-genesys-topic", topic);
    if (!id.isEmpty() || latest != null) {
      headers.put(
          PullConfig.KEY_HEADER,
          topic + "|" + id + "|" + (latest == null ? "" : latest.toString()));
    } else {
      headers.put(PullConfig.KEY_HEADER, topic + "|sha256:" + digest(text));
    }
    if (latest != null) {
      headers.put(PullConfig.TIME_HEADER, latest.toString());
    }
    return headers;
  }

  /**
   * The latest instant in the body: any ISO-8601 text, or {@code eventTime} in epoch milliseconds
   * (the detail events' form); null when there is none.
   */
  static Instant latestTime(JsonNode body) {
    Instant[] latest = {null};
    walk(body, latest);
    JsonNode eventTime = body.path("eventTime");
    if (eventTime.isIntegralNumber()) {
      Instant at = Instant.ofEpochMilli(eventTime.asLong());
      if (latest[0] == null || at.isAfter(latest[0])) {
        latest[0] = at;
      }
    }
    return latest[0];
  }

  private static void walk(JsonNode node, Instant[] latest) {
    if (node.isTextual()) {
      String text = node.asText();
      if (text.length() <= 40 && ISO.matcher(text).matches()) {
        try {
          Instant at = java.time.OffsetDateTime.parse(text).toInstant();
          if (latest[0] == null || at.isAfter(latest[0])) {
            latest[0] = at;
          }
        } catch (DateTimeParseException ignored) {
          // not a time after all
        }
      }
    } else if (node.isContainerNode()) {
      node.forEach(child -> walk(child, latest));
    }
  }

  private static String digest(String text) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
