package dev.switchboard.pull.genesys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Rebuilds, from a conversation's Analytics record, the event a conversation topic would have
 * streamed about it (docs/sources.md, "What a backfilled event holds"): for each subscribed {@code
 * v2.routing.queues.{id}.conversations} whose queue the conversation went through, and each {@code
 * v2.users.{id}.conversations} whose user took part, one envelope {@code {topicName, version,
 * eventBody, metadata}} with the conversation as it was when the record was read. Other topics
 * (presence, detail events, …) have no record to rebuild them from and are not backfilled.
 *
 * <p>The body keeps the fields the record has: the conversation's {@code id}; per participant its
 * {@code id}, {@code name}, {@code purpose}, {@code userId}, {@code queueId}, {@code
 * connectedTime}, {@code endTime}, {@code wrapup} ({@code code}, {@code notes}, {@code
 * durationSeconds}, {@code endTime}), {@code startAcwTime}, {@code endAcwTime} and {@code calls}
 * (one per session: {@code id}, {@code state}, {@code disconnectType}, {@code direction}, {@code
 * provider}, {@code connectedTime}, {@code disconnectedTime}). Times are copied as Genesys wrote
 * them, so a snapshot's latest time, and with it the source's de-duplication key, is the same as
 * that of the streamed event of the same moment.
 */
final class Backfill {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String QUEUE_PREFIX = "v2.routing.queues.";
  static final String USER_PREFIX = "v2.users.";
  static final String CONVERSATIONS_SUFFIX = ".conversations";

  private Backfill() {}

  /** Whether a topic can be backfilled at all. */
  static boolean backfillable(String topic) {
    return topic.endsWith(CONVERSATIONS_SUFFIX)
        && (topic.startsWith(QUEUE_PREFIX) || topic.startsWith(USER_PREFIX));
  }

  /**
   * Whether the conversation changed in [from, to): it ended in it, or is still going on, or any of
   * its segments ended in it.
   */
  static boolean changedIn(JsonNode conversation, Instant from, Instant to) {
    Instant end = time(conversation.path("conversationEnd"));
    if (end == null) {
      return true;
    }
    if (!end.isBefore(from) && end.isBefore(to)) {
      return true;
    }
    for (JsonNode segment : segments(conversation)) {
      Instant segmentEnd = time(segment.path("segmentEnd"));
      if (segmentEnd != null && !segmentEnd.isBefore(from) && segmentEnd.isBefore(to)) {
        return true;
      }
    }
    return false;
  }

  /** The envelopes the subscribed {@code topics} would have carried about this conversation. */
  static List<ObjectNode> envelopes(JsonNode conversation, Set<String> topics) {
    ObjectNode body = eventBody(conversation);
    List<ObjectNode> envelopes = new ArrayList<>();
    Set<String> queues = new java.util.LinkedHashSet<>();
    Set<String> users = new java.util.LinkedHashSet<>();
    for (JsonNode participant : conversation.path("participants")) {
      String user = participant.path("userId").asText("");
      if (!user.isEmpty()) {
        users.add(user);
      }
      for (JsonNode session : participant.path("sessions")) {
        for (JsonNode segment : session.path("segments")) {
          String queue = segment.path("queueId").asText("");
          if (!queue.isEmpty()) {
            queues.add(queue);
          }
        }
      }
    }
    for (String queue : queues) {
      addIfSubscribed(envelopes, topics, QUEUE_PREFIX + queue + CONVERSATIONS_SUFFIX, body);
    }
    for (String user : users) {
      addIfSubscribed(envelopes, topics, USER_PREFIX + user + CONVERSATIONS_SUFFIX, body);
    }
    return envelopes;
  }

  private static void addIfSubscribed(
      List<ObjectNode> into, Set<String> topics, String topic, ObjectNode body) {
    if (topics.contains(topic)) {
      ObjectNode envelope = JSON.createObjectNode();
      envelope.put("topicName", topic);
      envelope.put("version", "2");
      envelope.set("eventBody", body.deepCopy());
      ObjectNode metadata = envelope.putObject("metadata");
      metadata.put("switchboardBackfill", true);
      into.add(envelope);
    }
  }

  /** The conversation-topic body rebuilt from an Analytics conversation record. */
  static ObjectNode eventBody(JsonNode conversation) {
    boolean ended = time(conversation.path("conversationEnd")) != null;
    ObjectNode body = JSON.createObjectNode();
    body.put("id", conversation.path("conversationId").asText());
    ArrayNode participants = body.putArray("participants");
    for (JsonNode p : conversation.path("participants")) {
      ObjectNode participant = participants.addObject();
      copy(p, "participantId", participant, "id");
      copy(p, "participantName", participant, "name");
      copy(p, "purpose", participant, "purpose");
      copy(p, "userId", participant, "userId");
      String connected = null;
      String endTime = null;
      JsonNode wrapup = null;
      ArrayNode calls = JSON.createArrayNode();
      for (JsonNode session : p.path("sessions")) {
        String sessionStart = null;
        String sessionEnd = null;
        String disconnectType = null;
        for (JsonNode segment : session.path("segments")) {
          if (!participant.has("queueId") && segment.hasNonNull("queueId")) {
            participant.put("queueId", segment.path("queueId").asText());
          }
          if ("wrapup".equals(segment.path("segmentType").asText())) {
            wrapup = segment;
            continue;
          }
          sessionStart = earlier(sessionStart, segment.path("segmentStart").asText(null));
          sessionEnd = later(sessionEnd, segment.path("segmentEnd").asText(null));
          if (segment.hasNonNull("disconnectType")) {
            disconnectType = segment.path("disconnectType").asText();
          }
        }
        connected = earlier(connected, sessionStart);
        endTime = later(endTime, sessionEnd);
        ObjectNode call = calls.addObject();
        copy(session, "sessionId", call, "id");
        call.put("state", ended || sessionEnd != null ? "disconnected" : "connected");
        if (disconnectType != null) {
          call.put("disconnectType", disconnectType);
        }
        copy(session, "direction", call, "direction");
        copy(session, "provider", call, "provider");
        putIf(call, "connectedTime", sessionStart);
        putIf(call, "disconnectedTime", sessionEnd);
      }
      putIf(participant, "connectedTime", connected);
      putIf(participant, "endTime", endTime);
      if (wrapup != null) {
        ObjectNode w = participant.putObject("wrapup");
        copy(wrapup, "wrapUpCode", w, "code");
        copy(wrapup, "wrapUpNote", w, "notes");
        Instant start = time(wrapup.path("segmentStart"));
        Instant end = time(wrapup.path("segmentEnd"));
        if (start != null && end != null) {
          w.put("durationSeconds", Duration.between(start, end).toSeconds());
        }
        copy(wrapup, "segmentEnd", w, "endTime");
        copy(wrapup, "segmentStart", participant, "startAcwTime");
        copy(wrapup, "segmentEnd", participant, "endAcwTime");
      }
      participant.set("calls", calls);
    }
    return body;
  }

  private static List<JsonNode> segments(JsonNode conversation) {
    List<JsonNode> all = new ArrayList<>();
    for (JsonNode p : conversation.path("participants")) {
      for (JsonNode session : p.path("sessions")) {
        session.path("segments").forEach(all::add);
      }
    }
    return all;
  }

  private static void copy(JsonNode from, String key, ObjectNode to, String as) {
    JsonNode value = from.get(key);
    if (value != null && !value.isNull()) {
      to.set(as, value.deepCopy());
    }
  }

  private static void putIf(ObjectNode to, String key, String value) {
    if (value != null) {
      to.put(key, value);
    }
  }

  private static String earlier(String a, String b) {
    return a == null ? b : b == null ? a : time(b).isBefore(time(a)) ? b : a;
  }

  private static String later(String a, String b) {
    return a == null ? b : b == null ? a : time(b).isAfter(time(a)) ? b : a;
  }

  private static Instant time(String text) {
    try {
      return text == null ? null : java.time.OffsetDateTime.parse(text).toInstant();
    } catch (RuntimeException e) {
      return null;
    }
  }

  static Instant time(JsonNode node) {
    return node.isTextual() ? time(node.asText()) : null;
  }
}
