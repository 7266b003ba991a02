package dev.switchboard.destination.salesforce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.destination.http.HttpOutcomes;
import dev.switchboard.destination.http.HttpTransport;
import dev.switchboard.destination.http.OAuthClientCredentials;
import dev.switchboard.destination.http.OAuthSessions;
import dev.switchboard.destination.salesforce.SalesforceSettings.Operation;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code salesforce} connector (docs/connectors.md): upserts each delivery's body into an
 * object by its external id ({@code PATCH /sobjects/{object}/{field}/{value}}, the value taken from
 * the body's field of that name and left out of the body), or creates it ({@code POST
 * /sobjects/{object}}); with {@code batch_size} above 1, upserts up to 200 deliveries in one
 * sObject Collections call ({@code allOrNone: false}, so one bad record fails alone). The external
 * id is the idempotency key: a retried upsert updates the record the first attempt wrote.
 *
 * <p>Authentication: an OAuth client-credentials token from {@code login_url}, the gateway's one
 * session of this client (shared with a {@code salesforce} enricher of the same client); data calls
 * go to the answer's {@code instance_url}. Salesforce never says when a session ends, so a 401
 * {@code INVALID_SESSION_ID} fetches one new token and repeats the call inside the same attempt.
 *
 * <p>Failure policy: the answers are read by {@link SalesforceOutcomes} (dead at once: 300, field
 * errors, 404; tried again: 5xx, {@code UNABLE_TO_LOCK_ROW}; {@code Sforce-Limit-Info} and {@code
 * REQUEST_LIMIT_EXCEEDED} slow or hold the whole destination). No answer at all is tried again, and
 * so is a token the endpoint refuses: wrong credentials are the destination's fault, not the
 * event's, and the breaker stops the hammering while someone fixes them. Tokens, the secret, bodies
 * and data URLs (they hold the external id) are never logged.
 */
public final class SalesforceDestination implements Destination {
  private static final Logger LOG = LoggerFactory.getLogger(SalesforceDestination.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A 200-record collections answer with an error per record fits easily. */
  private static final int MAX_ANSWER_BYTES = 1 << 20;

  private final String name;
  private final SalesforceSettings settings;
  private final HttpTransport transport;
  private final SalesforceDataApi api;

  /** The sessions this destination made for itself (closed with it), or null for shared ones. */
  private final OAuthSessions ownSessions;

  private final SalesforceOutcomes outcomes;

  /**
   * A destination with its own OAuth sessions (tests, and tools that build one connector).
   *
   * @throws IllegalArgumentException when a setting is malformed
   */
  public SalesforceDestination(DestinationConfig config, Clock clock) {
    this(config, new ConnectorContext(clock, null), true);
  }

  /**
   * A destination whose token is the gateway's session of its client ({@link
   * SalesforceClient#session}), shared with a {@code salesforce} enricher of the same client.
   *
   * @throws IllegalArgumentException when a setting is malformed
   */
  public SalesforceDestination(DestinationConfig config, ConnectorContext context) {
    this(config, context, false);
  }

  private SalesforceDestination(
      DestinationConfig config, ConnectorContext context, boolean ownsSessions) {
    this.name = config.name();
    this.ownSessions = ownsSessions ? context.sessions() : null;
    this.settings = SalesforceSettings.of(config);
    this.outcomes = new SalesforceOutcomes(settings.externalIdField(), context.clock());
    this.transport =
        new HttpTransport(
            settings.connectTimeout(), settings.timeout(), config.concurrency(), MAX_ANSWER_BYTES);
    SalesforceClient client = settings.client();
    this.api = new SalesforceDataApi(client, client.session(context.sessions()), transport);
    if (settings.operation() == Operation.CREATE && settings.batchSize() > 1) {
      LOG.warn("salesforce destination {}: batch_size applies to upsert only", name);
    }
    LOG.info("salesforce destination {}: {}", name, settings);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int batchSize() {
    return settings.operation() == Operation.UPSERT ? settings.batchSize() : 1;
  }

  @Override
  public DeliveryResult send(OutboundDelivery delivery) {
    Object record = record(delivery);
    if (record instanceof Rejected refused) {
      return refused;
    }
    ObjectNode body = (ObjectNode) record;
    String path = settings.dataPath() + "/sobjects/" + settings.object();
    String method = "POST";
    if (settings.operation() == Operation.UPSERT) {
      // the value goes into the URL; Salesforce refuses the field in the body of such a PATCH
      String value = body.remove(settings.externalIdField()).asText();
      path += "/" + settings.externalIdField() + "/" + pathSegment(value);
      method = "PATCH";
    }
    Object answer = call(method, path, body);
    return answer instanceof HttpTransport.Answer a ? outcomes.of(a) : (DeliveryResult) answer;
  }

  /**
   * One sObject Collections upsert per round: a round takes each external id once (Salesforce fails
   * every row of an id that appears twice in one call), so two deliveries that share an id go out
   * in two calls, in their order.
   */
  @Override
  public List<DeliveryResult> sendBatch(List<OutboundDelivery> deliveries) {
    DeliveryResult[] results = new DeliveryResult[deliveries.size()];
    List<Integer> waiting = new ArrayList<>();
    List<ObjectNode> records = new ArrayList<>();
    for (int i = 0; i < deliveries.size(); i++) {
      Object record = record(deliveries.get(i));
      records.add(record instanceof ObjectNode node ? node : null);
      if (record instanceof Rejected refused) {
        results[i] = refused;
      } else {
        waiting.add(i);
      }
    }
    while (!waiting.isEmpty()) {
      List<Integer> round = new ArrayList<>();
      List<Integer> later = new ArrayList<>();
      Set<String> ids = new HashSet<>();
      for (int i : waiting) {
        (ids.add(records.get(i).path(settings.externalIdField()).asText()) ? round : later).add(i);
      }
      ObjectNode request = JSON.createObjectNode().put("allOrNone", false);
      ArrayNode rows = request.putArray("records");
      for (int i : round) {
        ObjectNode row = rows.addObject();
        row.putObject("attributes").put("type", settings.object());
        row.setAll(records.get(i));
      }
      String path =
          settings.dataPath()
              + "/composite/sobjects/"
              + settings.object()
              + "/"
              + settings.externalIdField();
      Object answer = call("PATCH", path, request);
      if (!(answer instanceof HttpTransport.Answer a)) {
        waiting.forEach(i -> results[i] = (DeliveryResult) answer); // no answer: no second round
        break;
      }
      List<DeliveryResult> each = outcomes.ofCollection(a, round.size());
      for (int j = 0; j < round.size(); j++) {
        results[round.get(j)] = each.get(j);
      }
      waiting = later;
    }
    return Arrays.asList(results);
  }

  @Override
  public void close() {
    transport.close();
    if (ownSessions != null) {
      ownSessions.close();
    }
  }

  /** The delivery's body as a JSON object, or why it cannot be sent (before any request). */
  private Object record(OutboundDelivery delivery) {
    JsonNode body;
    try {
      body = JSON.readTree(delivery.body());
    } catch (IOException e) {
      body = null;
    }
    if (!(body instanceof ObjectNode object)) {
      return new Rejected("salesforce: the body is not a JSON object (see the transform)", 0, null);
    }
    if (settings.operation() == Operation.UPSERT) {
      JsonNode id = object.get(settings.externalIdField());
      if (id == null || !id.isValueNode() || id.isNull() || id.asText().isBlank()) {
        return new Rejected(
            "salesforce: the body has no " + settings.externalIdField() + " to upsert by", 0, null);
      }
    }
    return object;
  }

  /**
   * Makes one data call through {@link SalesforceDataApi} (a new token after 401 {@code
   * INVALID_SESSION_ID}). Returns the {@link HttpTransport.Answer} or the {@link DeliveryResult}
   * that getting none came to.
   */
  private Object call(String method, String path, JsonNode body) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise a parsed body", e);
    }
    try {
      return api.exchange(method, path, bytes);
    } catch (OAuthClientCredentials.Refused refused) {
      // 400 invalid_client_id, invalid_grant (no Run As user, not the My Domain host), …
      HttpTransport.Answer a = refused.answer();
      LOG.warn("salesforce destination {}: no token: {}", name, refused.getMessage());
      // a 2xx without access_token may hold the credential under another name: no excerpt
      return new RetryLater(
          "salesforce " + refused.getMessage(),
          a.status(),
          null,
          a.status() >= 300 ? SalesforceOutcomes.excerpt(a) : null);
    } catch (IOException | RuntimeException e) {
      return noAnswer(e);
    }
  }

  private DeliveryResult noAnswer(Exception e) {
    DeliveryResult failure = HttpOutcomes.ofFailure(e);
    LOG.debug("salesforce destination {}: {}", name, failure);
    return failure instanceof RetryLater r
        // classed "error", as it always was: the token and data calls share this path
        ? RetryLater.noAnswer(ErrorClass.ERROR, "salesforce " + r.error(), null, null)
        : failure;
  }

  /** Percent-encodes an external id for one path segment (URLEncoder encodes for forms). */
  static String pathSegment(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
