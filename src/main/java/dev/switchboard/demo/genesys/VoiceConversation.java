package dev.switchboard.demo.genesys;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One finished inbound voice conversation in a queue, seen two ways that agree with each other: the
 * body of a {@code v2.routing.queues.{id}.conversations} notification and the Analytics API's
 * conversation detail record (docs/connectors.md, "Genesys Cloud"). Customer and agent
 * participants; the agent connects a tenth of the way in, talks until nine tenths, then spends the
 * rest in after-call work ending in {@code wrapupCode}, so {@code conversationEnd} is the wrap-up's
 * end, as on the real service.
 */
record VoiceConversation(
    String id, String queueId, Instant start, Instant end, String wrapupCode, Ids ids) {

  private static final DateTimeFormatter MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private static final String NOTE = "Customer asked for a callback next week.";

  /** The random ids one conversation needs. */
  record Ids(
      String customer,
      String customerCall,
      String agent,
      String agentCall,
      String user,
      String division) {
    static Ids random() {
      return new Ids(uuid(), uuid(), uuid(), uuid(), uuid(), uuid());
    }
  }

  static VoiceConversation of(String queueId, Instant start, Instant end, String wrapupCode) {
    if (end.isBefore(start)) {
      throw new IllegalArgumentException("a conversation cannot end before it starts");
    }
    return new VoiceConversation(uuid(), queueId, start, end, wrapupCode, Ids.random());
  }

  /** Genesys's timestamp form: ISO-8601 in UTC with milliseconds, always. */
  static String format(Instant instant) {
    return MILLIS.format(instant);
  }

  private Instant agentConnected() {
    return start.plus(Duration.between(start, end).dividedBy(10));
  }

  private Instant talkEnd() {
    return end.minus(Duration.between(start, end).dividedBy(10));
  }

  /** The notification body, shaped like the queue-conversation sample. */
  Map<String, Object> eventBody() {
    String talkEnd = format(talkEnd());
    Map<String, Object> customerCall = new LinkedHashMap<>();
    customerCall.put("id", ids.customerCall());
    customerCall.put("state", "disconnected");
    customerCall.put("initialState", "offering");
    customerCall.put("recording", false);
    customerCall.put("recordingState", "none");
    customerCall.put("muted", false);
    customerCall.put("confined", false);
    customerCall.put("held", false);
    customerCall.put("securePause", false);
    customerCall.put("disconnectType", "client");
    customerCall.put("direction", "inbound");
    customerCall.put("self", address("tel:+15555550142", "+1 555-555-0142"));
    customerCall.put("other", address("tel:+15555550100", "+1 555-555-0100"));
    customerCall.put("provider", "Edge");
    customerCall.put("connectedTime", format(start));
    customerCall.put("disconnectedTime", talkEnd);
    customerCall.put("afterCallWorkRequired", false);

    Map<String, Object> customer = new LinkedHashMap<>();
    customer.put("id", ids.customer());
    customer.put("connectedTime", format(start));
    customer.put("endTime", talkEnd);
    customer.put("name", "Mobile Number, Texas");
    customer.put("purpose", "customer");
    customer.put("address", "tel:+15555550142");
    customer.put("wrapupRequired", false);
    customer.put("attributes", Map.of());
    customer.put("calls", List.of(customerCall));

    Map<String, Object> acw = new LinkedHashMap<>();
    acw.put("state", "complete");
    acw.put("startTime", talkEnd);
    acw.put("endTime", format(end));
    Map<String, Object> agentCall = new LinkedHashMap<>();
    agentCall.put("id", ids.agentCall());
    agentCall.put("state", "disconnected");
    agentCall.put("initialState", "alerting");
    agentCall.put("recording", false);
    agentCall.put("recordingState", "none");
    agentCall.put("muted", false);
    agentCall.put("confined", false);
    agentCall.put("held", false);
    agentCall.put("disconnectType", "peer");
    agentCall.put("direction", "inbound");
    agentCall.put("provider", "Edge");
    agentCall.put("peerId", ids.customerCall());
    agentCall.put("connectedTime", format(agentConnected()));
    agentCall.put("disconnectedTime", talkEnd);
    agentCall.put("afterCallWork", acw);
    agentCall.put("afterCallWorkRequired", true);

    Map<String, Object> wrapup = new LinkedHashMap<>();
    wrapup.put("code", wrapupCode);
    wrapup.put("notes", NOTE);
    wrapup.put("tags", List.of());
    wrapup.put("durationSeconds", Duration.between(talkEnd(), end).toSeconds());
    wrapup.put("endTime", format(end));
    Map<String, Object> agent = new LinkedHashMap<>();
    agent.put("id", ids.agent());
    agent.put("connectedTime", format(agentConnected()));
    agent.put("endTime", talkEnd);
    agent.put("userId", ids.user());
    agent.put("name", "Agent Example");
    agent.put("queueId", queueId);
    agent.put("purpose", "agent");
    agent.put("address", "sip:" + ids.user() + "@localhost");
    agent.put("wrapupRequired", true);
    agent.put("wrapupPrompt", "mandatory");
    agent.put("wrapup", wrapup);
    agent.put("startAcwTime", talkEnd);
    agent.put("endAcwTime", format(end));
    agent.put("attributes", Map.of());
    agent.put("calls", List.of(agentCall));

    Map<String, Object> body = new LinkedHashMap<>();
    body.put("id", id);
    body.put("maxParticipants", 0);
    body.put("participants", List.of(customer, agent));
    body.put("recordingState", "none");
    body.put(
        "divisions",
        List.of(
            Map.of(
                "division",
                Map.of("id", ids.division()),
                "entities",
                List.of(Map.of("id", queueId)))));
    return body;
  }

  /** The Analytics API's detail record, shaped like the analytics-conversation-details sample. */
  Map<String, Object> analyticsRecord() {
    String talkEnd = format(talkEnd());
    Map<String, Object> system = new LinkedHashMap<>();
    system.put("segmentStart", format(start));
    system.put("segmentEnd", talkEnd);
    system.put("segmentType", "system");
    system.put("disconnectType", "client");
    Map<String, Object> customer = new LinkedHashMap<>();
    customer.put("participantId", ids.customer());
    customer.put("participantName", "Mobile Number, Texas");
    customer.put("purpose", "customer");
    customer.put("sessions", List.of(session(ids.customerCall(), List.of(system), null)));

    Map<String, Object> interact = new LinkedHashMap<>();
    interact.put("segmentStart", format(agentConnected()));
    interact.put("segmentEnd", talkEnd);
    interact.put("segmentType", "interact");
    interact.put("queueId", queueId);
    interact.put("disconnectType", "peer");
    Map<String, Object> wrap = new LinkedHashMap<>();
    wrap.put("segmentStart", talkEnd);
    wrap.put("segmentEnd", format(end));
    wrap.put("segmentType", "wrapup");
    wrap.put("queueId", queueId);
    wrap.put("wrapUpCode", wrapupCode);
    wrap.put("wrapUpNote", NOTE);
    List<Map<String, Object>> metrics =
        List.of(
            metric("tTalk", Duration.between(agentConnected(), talkEnd()).toMillis(), talkEnd),
            metric("tAcw", Duration.between(talkEnd(), end).toMillis(), format(end)));
    Map<String, Object> agent = new LinkedHashMap<>();
    agent.put("participantId", ids.agent());
    agent.put("participantName", "Agent Example");
    agent.put("purpose", "agent");
    agent.put("userId", ids.user());
    agent.put("sessions", List.of(session(ids.agentCall(), List.of(interact, wrap), metrics)));

    Map<String, Object> record = new LinkedHashMap<>();
    record.put("conversationId", id);
    record.put("conversationStart", format(start));
    record.put("conversationEnd", format(end));
    record.put("originatingDirection", "inbound");
    record.put("divisionIds", List.of(ids.division()));
    record.put("participants", List.of(customer, agent));
    return record;
  }

  private static Map<String, Object> session(
      String id, List<Map<String, Object>> segments, List<Map<String, Object>> metrics) {
    Map<String, Object> session = new LinkedHashMap<>();
    session.put("sessionId", id);
    session.put("mediaType", "voice");
    session.put("direction", "inbound");
    session.put("ani", "tel:+15555550142");
    session.put("dnis", "tel:+15555550100");
    session.put("provider", "Edge");
    if (metrics != null) {
      session.put("metrics", metrics);
    }
    session.put("segments", segments);
    return session;
  }

  private static Map<String, Object> metric(String name, long value, String emitDate) {
    Map<String, Object> metric = new LinkedHashMap<>();
    metric.put("name", name);
    metric.put("value", value);
    metric.put("emitDate", emitDate);
    return metric;
  }

  private static Map<String, Object> address(String normalized, String displayable) {
    Map<String, Object> address = new LinkedHashMap<>();
    address.put("nameRaw", "");
    address.put("addressNormalized", normalized);
    address.put("addressRaw", normalized);
    address.put("addressDisplayable", displayable);
    return address;
  }

  private static String uuid() {
    return UUID.randomUUID().toString();
  }
}
