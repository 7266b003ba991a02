package dev.switchboard.destination.genesys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.EnrichPath;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.destination.genesys.GenesysCalls.NoAnswer;
import dev.switchboard.destination.genesys.GenesysWriteSettings.Operation;
import dev.switchboard.destination.http.HttpTransport;
import dev.switchboard.destination.http.OAuthSessions;
import dev.switchboard.expr.ExpressionException;
import java.io.IOException;
import java.time.Clock;
import java.util.Iterator;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code genesys-cloud} destination (docs/connectors.md, "Genesys Cloud (write-back)"): each
 * delivery's body, the route's transform output, becomes one write in Genesys Cloud, as the
 * configured {@code operation} says:
 *
 * <ul>
 *   <li>{@code conversation-attributes}: {@code PATCH
 *       /api/v2/conversations/{conversationId}/participants/{participantId}/attributes} with the
 *       body's {@code attributes} as text; without a {@code participantId}, the conversation's
 *       customer participant (else its first external one) is looked up first. Setting the same
 *       attributes twice is harmless, so a retry is too.
 *   <li>{@code callback}: {@link Callbacks}, at most one callback per delivery.
 *   <li>{@code external-contact}: {@link ExternalContacts}, a lookup first, so a retry updates.
 *   <li>{@code request}: any Platform API call, the path filled from the body and the route's
 *       bindings, each value one encoded segment; its idempotency is the API's.
 * </ul>
 *
 * <p>Tokens come from the gateway's session of the client ({@link GenesysClient#session}), shared
 * with the {@code genesys-cloud} enricher of the same client. Answers are read by {@link
 * GenesysOutcomes}. Tokens, the secret, bodies and paths (they hold ids from the event) are never
 * logged.
 */
public final class GenesysDestination implements Destination {
  private static final Logger LOG = LoggerFactory.getLogger(GenesysDestination.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_ANSWER_BYTES = 512 * 1024; // the API's request.bytes.max

  static final EnrichPath CONVERSATION = EnrichPath.template("/api/v2/conversations/{id}");
  static final EnrichPath ATTRIBUTES =
      EnrichPath.template(
          "/api/v2/conversations/{conversationId}/participants/{participantId}" + "/attributes");

  private final String name;
  private final GenesysWriteSettings settings;
  private final Clock clock;
  private final HttpTransport transport;
  private final GenesysCalls calls;
  private final Callbacks callbacks;
  private final ExternalContacts contacts;

  /**
   * @param sessions the gateway's OAuth sessions: the token is shared with every connector of the
   *     same client
   */
  public GenesysDestination(DestinationConfig config, Clock clock, OAuthSessions sessions) {
    this.name = config.name();
    this.settings = ConnectorDescriptor.settingsOf(config, GenesysWriteSettings.class);
    this.clock = clock;
    this.transport =
        new HttpTransport(
            settings.connectTimeout(), settings.timeout(), config.concurrency(), MAX_ANSWER_BYTES);
    this.calls =
        new GenesysCalls(
            settings.client().apiUrl(), settings.client().session(sessions), transport);
    this.callbacks = new Callbacks(calls, clock);
    this.contacts = new ExternalContacts(calls, settings.matchOn(), clock);
    LOG.info("genesys-cloud destination {}: {}", name, settings);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public DeliveryResult send(OutboundDelivery delivery) {
    Operation operation = settings.operation();
    if (operation != Operation.REQUEST && delivery.method() != null) {
      return GenesysOutcomes.refused("a route's method applies to operation request only");
    }
    if (operation == Operation.REQUEST) {
      return request(delivery);
    }
    JsonNode body;
    try {
      body = JSON.readTree(delivery.body());
    } catch (IOException e) {
      body = null;
    }
    if (!(body instanceof ObjectNode object)) {
      return GenesysOutcomes.refused("the body is not a JSON object (see the transform)");
    }
    try {
      return switch (operation) {
        case CONVERSATION_ATTRIBUTES -> attributes(object);
        case CALLBACK -> callbacks.create(object, delivery);
        case EXTERNAL_CONTACT -> contacts.createOrUpdate(object);
        case REQUEST -> throw new IllegalStateException("handled above");
      };
    } catch (NoAnswer e) {
      LOG.debug("genesys-cloud destination {}: {}", name, e.result());
      return e.result();
    }
  }

  @Override
  public void close() {
    transport.close();
  }

  private DeliveryResult attributes(ObjectNode body) throws NoAnswer {
    String conversationId = text(body.get("conversationId"));
    if (conversationId == null) {
      return GenesysOutcomes.refused("the body has no conversationId");
    }
    if (!(body.get("attributes") instanceof ObjectNode given) || given.isEmpty()) {
      return GenesysOutcomes.refused("the body has no attributes object");
    }
    String participantId = text(body.get("participantId"));
    try {
      if (participantId == null) {
        HttpTransport.Answer answer =
            calls.get(CONVERSATION.render(Map.of("id", conversationId), Map.of()));
        if (answer.status() != 200) {
          return GenesysOutcomes.of(answer, clock.instant());
        }
        participantId = customerOf(GenesysOutcomes.parse(answer.body()));
        if (participantId == null) {
          return GenesysOutcomes.refused(
              "the conversation has no customer or external participant");
        }
      }
      String path =
          ATTRIBUTES.render(
              Map.of("conversationId", conversationId, "participantId", participantId), Map.of());
      ObjectNode request = JSON.createObjectNode();
      request.set("attributes", asText(given));
      return GenesysOutcomes.of(calls.call("PATCH", path, request), clock.instant());
    } catch (ExpressionException e) {
      return GenesysOutcomes.refused(e.getMessage()); // an id that is not one path segment
    }
  }

  /** Genesys keeps attributes as text: numbers and flags as written, structures as JSON. */
  static ObjectNode asText(ObjectNode given) {
    ObjectNode attributes = JSON.createObjectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = given.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      attributes.put(e.getKey(), v.isNull() ? "" : v.isValueNode() ? v.asText() : v.toString());
    }
    return attributes;
  }

  /**
   * The participant whose attributes a write-back means when the body names none: the one with
   * {@code purpose} {@code customer}, else the first {@code external} one (the outside party of an
   * outbound or transferred conversation).
   */
  static String customerOf(JsonNode conversation) {
    String external = null;
    for (JsonNode p : conversation.path("participants")) {
      String purpose = p.path("purpose").asText("");
      String id = text(p.get("id"));
      if (id != null && purpose.equals("customer")) {
        return id;
      }
      if (id != null && external == null && purpose.equals("external")) {
        external = id;
      }
    }
    return external;
  }

  private DeliveryResult request(OutboundDelivery delivery) {
    String method = delivery.method() != null ? delivery.method() : settings.method();
    Object input;
    try {
      input = delivery.body().length == 0 ? null : JSON.readValue(delivery.body(), Object.class);
    } catch (IOException e) {
      return GenesysOutcomes.refused("the body is not JSON (see the transform)");
    }
    String path;
    try {
      path = settings.path().render(input, delivery.bindings());
    } catch (ExpressionException e) {
      return GenesysOutcomes.refused("path: " + e.getMessage());
    }
    boolean bodiless = method.equals("GET") || method.equals("DELETE");
    try {
      return GenesysOutcomes.of(
          calls.call(method, path, bodiless ? null : delivery.body()), clock.instant());
    } catch (NoAnswer e) {
      return e.result();
    }
  }

  /** A text or number value as text; null when absent, empty or a structure. */
  static String text(JsonNode node) {
    if (node == null || !node.isValueNode() || node.isNull()) {
      return null;
    }
    String text = node.asText();
    return text.isBlank() ? null : text;
  }
}
