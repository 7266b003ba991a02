package dev.switchboard.demo.genesys;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The Platform API's write side, as far as the {@code genesys-cloud} destination uses it
 * (docs/connectors.md, "Genesys Cloud (write-back)"): a conversation and its participants'
 * attributes, and callbacks (and finding them again by a participant attribute through the
 * analytics details query); {@link ExternalContactBook} keeps the external contacts.
 *
 * <p>Shapes follow the Platform API's models as the platform-client-sdk-java documents them ({@code
 * Conversation}, {@code ParticipantAttributes}, {@code CreateCallbackCommand}, {@code
 * CreateCallbackResponse}). Guessed, as nothing public says: the success statuses (202 for the
 * attributes PATCH, whose answer has no body; 200 for the create), the 400 and 404 messages and the
 * callback participant's {@code purpose} ({@code customer}).
 *
 * <p>Writes go through {@link SlowWrites}, which can make them answer after a client's timeout.
 */
final class WriteBack {
  /** A participant of a conversation the fake knows: its purpose and attributes. */
  private record Participant(String id, String purpose, Map<String, String> attributes) {}

  /** A conversation this side created or was told of. */
  private record Conversation(String id, Instant start, List<Participant> participants) {}

  private final Map<String, VoiceConversation> voice;
  private final Map<String, Conversation> conversations = new ConcurrentHashMap<>();
  private final List<Map<String, Object>> callbacks = new CopyOnWriteArrayList<>();
  private final SlowWrites slow;
  private final ExternalContactBook contacts;

  WriteBack(Map<String, VoiceConversation> voice, SlowWrites slow, ExternalContactBook contacts) {
    this.voice = voice;
    this.slow = slow;
    this.contacts = contacts;
  }

  void register(RoutesConfig routes) {
    routes.get("/api/v2/conversations/{id}", this::conversation);
    routes.patch(
        "/api/v2/conversations/{id}/participants/{participant}/attributes", this::attributes);
    routes.post("/api/v2/conversations/callbacks", this::createCallback);
    contacts.register(routes);
  }

  List<Map<String, Object>> callbacks() {
    return List.copyOf(callbacks);
  }

  Map<String, String> attributesOf(String conversationId, String participantId) {
    return known(conversationId).participants().stream()
        .filter(p -> p.id().equals(participantId))
        .findFirst()
        .map(p -> Map.copyOf(p.attributes()))
        .orElseThrow(() -> new IllegalArgumentException("no such participant"));
  }

  /**
   * The analytics details of the callbacks whose customer participant has every attribute in {@code
   * properties}, started in [from, to), newest first: {@code {conversations, totalHits}}.
   */
  Map<String, Object> callbacksWith(Map<String, String> properties, Instant from, Instant to) {
    List<Map<String, Object>> hits = new ArrayList<>();
    for (Conversation c : conversations.values()) {
      Participant customer = c.participants().get(0);
      boolean match =
          properties.entrySet().stream()
              .allMatch(e -> e.getValue().equals(customer.attributes().get(e.getKey())));
      if (match && !c.start().isBefore(from) && c.start().isBefore(to)) {
        hits.add(analytics(c, customer));
      }
    }
    hits.sort(
        (a, b) ->
            ((String) b.get("conversationStart")).compareTo((String) a.get("conversationStart")));
    Map<String, Object> answer = new LinkedHashMap<>();
    if (!hits.isEmpty()) {
      answer.put("conversations", hits);
    }
    answer.put("totalHits", hits.size());
    return answer;
  }

  private static Map<String, Object> analytics(Conversation c, Participant customer) {
    Map<String, Object> segment = new LinkedHashMap<>();
    segment.put("segmentStart", VoiceConversation.format(c.start()));
    segment.put("segmentType", "scheduled");
    Map<String, Object> session = new LinkedHashMap<>();
    session.put("mediaType", "callback");
    session.put("direction", "outbound");
    session.put("segments", List.of(segment));
    Map<String, Object> participant = new LinkedHashMap<>();
    participant.put("participantId", customer.id());
    participant.put("purpose", customer.purpose());
    participant.put("attributes", customer.attributes());
    participant.put("sessions", List.of(session));
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("conversationId", c.id());
    record.put("conversationStart", VoiceConversation.format(c.start()));
    record.put("originatingDirection", "outbound");
    record.put("participants", List.of(participant));
    return record;
  }

  // --- handlers

  private void conversation(Context ctx) {
    Conversation c = known(ctx.pathParam("id"));
    List<Map<String, Object>> participants = new ArrayList<>();
    for (Participant p : c.participants()) {
      Map<String, Object> participant = new LinkedHashMap<>();
      participant.put("id", p.id());
      participant.put("purpose", p.purpose());
      participant.put("attributes", p.attributes());
      participants.add(participant);
    }
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("id", c.id());
    answer.put("startTime", VoiceConversation.format(c.start()));
    answer.put("participants", participants);
    answer.put("selfUri", "/api/v2/conversations/" + c.id());
    json(ctx, 200, answer);
  }

  private void attributes(Context ctx) {
    Conversation c = known(ctx.pathParam("id"));
    Participant participant =
        c.participants().stream()
            .filter(p -> p.id().equals(ctx.pathParam("participant")))
            .findFirst()
            .orElseThrow(() -> notFound("participant"));
    Map<String, Object> body = object(ctx);
    if (!(body.get("attributes") instanceof Map<?, ?> given)) {
      throw ApiError.badRequest("attributes is required.");
    }
    Map<String, String> attributes = texts(given, "attributes");
    slow.write(() -> participant.attributes().putAll(attributes));
    ctx.status(202);
  }

  private void createCallback(Context ctx) {
    Map<String, Object> body = object(ctx);
    if (!(body.get("callbackNumbers") instanceof List<?> numbers) || numbers.isEmpty()) {
      throw ApiError.badRequest("callbackNumbers must contain at least one phone number.");
    }
    if (body.get("queueId") == null && body.get("routingData") == null) {
      throw ApiError.badRequest("Either queueId or routingData is required.");
    }
    Map<String, String> data =
        body.get("data") instanceof Map<?, ?> given ? texts(given, "data") : Map.of();
    String id = UUID.randomUUID().toString();
    Participant customer =
        new Participant(UUID.randomUUID().toString(), "customer", new ConcurrentHashMap<>(data));
    slow.write(
        () -> {
          conversations.put(id, new Conversation(id, Instant.now(), List.of(customer)));
          callbacks.add(body);
        });
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("conversation", Map.of("id", id, "selfUri", "/api/v2/conversations/" + id));
    answer.put("callbackIdentifiers", List.of(Map.of("type", "EXTERNAL", "id", customer.id())));
    json(ctx, 200, answer);
  }

  // --- helpers

  private Conversation known(String id) {
    Conversation c = conversations.get(id);
    if (c != null) {
      return c;
    }
    VoiceConversation v = voice.get(id);
    if (v == null) {
      throw notFound("conversation");
    }
    // a voice conversation's two participants, from its notification body
    return conversations.computeIfAbsent(
        id,
        k ->
            new Conversation(
                id,
                v.start(),
                List.of(
                    new Participant(v.ids().customer(), "customer", new ConcurrentHashMap<>()),
                    new Participant(v.ids().agent(), "agent", new ConcurrentHashMap<>()))));
  }

  private static Map<String, String> texts(Map<?, ?> given, String field) {
    Map<String, String> texts = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : given.entrySet()) {
      if (!(e.getValue() instanceof String s)) {
        throw ApiError.badRequest("Every value of " + field + " must be a string.");
      }
      texts.put(String.valueOf(e.getKey()), s);
    }
    return texts;
  }

  static Map<String, Object> object(Context ctx) {
    try {
      return Envelopes.JSON.readValue(ctx.body(), new TypeReference<Map<String, Object>>() {});
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest("The request body is not a JSON object.");
    }
  }

  static ApiError notFound(String what) {
    return new ApiError(404, "not.found", "The requested " + what + " could not be found.");
  }

  static void json(Context ctx, int status, Object body) {
    ctx.status(status).contentType("application/json").result(Envelopes.write(body));
  }
}
