package dev.switchboard.destination.genesys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.destination.genesys.GenesysCalls.NoAnswer;
import dev.switchboard.destination.http.HttpTransport;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The {@code callback} operation: {@code POST /api/v2/conversations/callbacks} with the body (a
 * {@code CreateCallbackCommand}: {@code queueId}, {@code callbackNumbers}, {@code
 * callbackUserName}, {@code scriptId}, {@code callbackScheduledTime}, {@code data}, …), at most
 * once per delivery.
 *
 * <p>A callback has no client-chosen id, so the delivery's idempotency key goes into its {@code
 * data} as {@value #KEY_ATTRIBUTE}; Genesys makes {@code data} the callback participant's
 * attributes. Every attempt (a replay or a crash starts again from attempt 1) first asks the
 * analytics conversation details query for a conversation with a segment carrying that attribute,
 * and creates nothing when it finds one.
 *
 * <p>What the check covers (docs/connectors.md): a callback created in the last {@link #LOOKBACK}
 * whose conversation the analytics API already shows. Analytics lags the conversation by seconds,
 * so a create that may have happened without its answer (timeout, reset after sending, 5xx) makes
 * its retry wait at least {@link #INDEX_LAG}; a retry that still comes before the record appears
 * would create a second callback.
 */
final class Callbacks {
  static final String KEY_ATTRIBUTE = "switchboardDeliveryId";
  static final String PATH = "/api/v2/conversations/callbacks";
  static final String QUERY = "/api/v2/analytics/conversations/details/query";
  static final Duration LOOKBACK = Duration.ofDays(7);
  static final Duration INDEX_LAG = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final GenesysCalls calls;
  private final Clock clock;

  Callbacks(GenesysCalls calls, Clock clock) {
    this.calls = calls;
    this.clock = clock;
  }

  DeliveryResult create(ObjectNode body, OutboundDelivery delivery) throws NoAnswer {
    if (!body.path("callbackNumbers").isArray() || body.path("callbackNumbers").isEmpty()) {
      return GenesysOutcomes.refused("the body has no callbackNumbers");
    }
    JsonNode data = body.get("data");
    if (data != null && !data.isNull() && !data.isObject()) {
      return GenesysOutcomes.refused("the body's data is not an object");
    }
    String key = delivery.idempotencyKey();
    // looked for on every attempt, the first too: a replay, a crash after the request went out
    // or a lost lease starts again from attempt 1 although a callback may exist
    HttpTransport.Answer found = calls.call("POST", QUERY, query(key));
    if (found.status() != 200) {
      return GenesysOutcomes.of(found, clock.instant());
    }
    JsonNode conversation = GenesysOutcomes.parse(found.body()).path("conversations").path(0);
    if (!conversation.isMissingNode()) {
      String id = conversation.path("conversationId").asText("?");
      return new Delivered(
          200, "callback conversation " + id + " was created by an earlier attempt");
    }
    ObjectNode command = body.deepCopy();
    // data is a map of text in Genesys: numbers and flags go as written
    ObjectNode withKey =
        data instanceof ObjectNode given
            ? GenesysDestination.asText(given)
            : JSON.createObjectNode();
    command.set("data", withKey);
    withKey.put(KEY_ATTRIBUTE, key);
    try {
      return Callbacks.afterCreate(
          GenesysOutcomes.of(calls.call("POST", PATH, command), clock.instant()));
    } catch (NoAnswer e) {
      if (e.timedOut() && e.result() instanceof RetryLater r) {
        // Genesys may have created it: give the analytics record time to appear first
        throw new NoAnswer(r.withNotBefore(INDEX_LAG), true);
      }
      throw e;
    }
  }

  /**
   * A create answered 5xx may have been done by Genesys behind its edge all the same: its retry
   * waits for the search to show it, as after a timeout.
   */
  static DeliveryResult afterCreate(DeliveryResult result) {
    if (result instanceof RetryLater r && r.status() >= 500) {
      return r.withNotBefore(INDEX_LAG);
    }
    return result;
  }

  /** Conversations of the last week whose segments carry the key attribute, newest first. */
  private ObjectNode query(String key) {
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    ObjectNode query = JSON.createObjectNode();
    query.put("interval", now.minus(LOOKBACK) + "/" + now.plus(Duration.ofHours(1)));
    query.put("order", "desc");
    ObjectNode paging = query.putObject("paging");
    paging.put("pageSize", 1);
    paging.put("pageNumber", 1);
    ObjectNode filter = query.putArray("segmentFilters").addObject();
    filter.put("type", "and");
    ObjectNode predicate = filter.putArray("predicates").addObject();
    predicate.put("type", "property");
    predicate.put("propertyType", "string");
    predicate.put("property", KEY_ATTRIBUTE);
    predicate.put("value", key);
    return query;
  }
}
