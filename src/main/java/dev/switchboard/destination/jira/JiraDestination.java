package dev.switchboard.destination.jira;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.destination.http.HttpOutcomes;
import dev.switchboard.destination.http.HttpTransport;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code jira} connector: creates one Jira Cloud issue per delivery ({@code POST
 * /rest/api/3/issue}, basic auth with e-mail and API token). The route's output is the issue's
 * {@code fields} (a string {@code description} becomes an Atlassian Document); the connector sets
 * the project, the issue type unless the output names one, a label {@code sb-<idempotency key>} and
 * an entity property {@code switchboard} carrying the same key.
 *
 * <p>At most one issue per delivery (docs/connectors.md, "Jira Cloud"): Jira's create is not
 * idempotent, so every attempt first looks for the label ({@code /rest/api/3/search/jql}) and
 * creates only when nothing carries it; a key this process created is remembered and confirmed by
 * GET instead. The search lags behind creates by up to {@code search_lag}, so after an ambiguous
 * create (timeout, broken connection, 5xx: the issue may exist) the delivery waits out the lag, as
 * a {@code RetryLater} with that delay, before it searches and may create again. Residual risk: the
 * memory is per process, so a crash or restart inside the lag after an ambiguous create can still
 * make a duplicate; duplicates found are logged, not deleted.
 *
 * <p>Failure policy: 429 (with {@code Retry-After}, else the ISO {@code X-RateLimit-Reset}; both
 * pause the whole destination), 5xx, timeouts and connection errors are tried again; 400 (bad
 * fields), 401, 403, 404 and other 4xx are final. The token and the payload are never logged.
 */
public final class JiraDestination implements Destination {
  private static final Logger LOG = LoggerFactory.getLogger(JiraDestination.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The entity property set on every created issue. */
  static final String PROPERTY = "switchboard";

  static final int MAX_ANSWER_BYTES = 64 * 1024;
  private static final int EXCERPT_CHARS = 500;
  private static final int REMEMBERED_KEYS = 10_000;
  private static final Pattern ISSUE_KEY = Pattern.compile("[A-Z][A-Z0-9_]*-[0-9]+");

  /** What this process knows about an idempotency key: the issue it made, or when it lost one. */
  private record Known(String issueKey, Instant ambiguousAt) {}

  private final String name;
  private final JiraDestinationSettings settings;
  private final Clock clock;
  private final HttpTransport transport;
  private final Map<String, Known> known =
      Collections.synchronizedMap(
          new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Known> eldest) {
              return size() > REMEMBERED_KEYS;
            }
          });

  /**
   * @param clock times the search lag and reads rate-limit resets
   * @throws IllegalArgumentException when a setting is missing or malformed
   */
  public JiraDestination(DestinationConfig config, Clock clock) {
    this.name = config.name();
    this.settings = ConnectorDescriptor.settingsOf(config, JiraDestinationSettings.class);
    this.clock = clock;
    this.transport =
        new HttpTransport(
            settings.connectTimeout(), settings.timeout(), config.concurrency(), MAX_ANSWER_BYTES);
    LOG.info(
        "jira destination {} creates issues in {} on {}",
        name,
        settings.project(),
        settings.baseUrl().getHost());
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public DeliveryResult send(OutboundDelivery delivery) {
    String key =
        delivery.idempotencyKey() != null ? delivery.idempotencyKey() : delivery.deliveryId();
    String label = JiraDestinationSettings.label(key);
    ObjectNode request;
    try {
      request = settings.createRequest(delivery, key, label);
    } catch (IllegalArgumentException e) {
      return new Rejected("jira: " + e.getMessage(), 0, null);
    }
    Known before = known.get(key);
    if (before != null && before.issueKey() != null) {
      DeliveryResult confirmed = confirm(before.issueKey());
      if (confirmed != null) {
        return confirmed;
      }
      known.remove(key); // deleted since: this delivery may create it again
    } else if (before != null) {
      Duration wait =
          Duration.between(clock.instant(), before.ambiguousAt().plus(settings.searchLag()));
      if (wait.isPositive()) {
        return new RetryLater(
            "jira: an earlier create may have succeeded; waiting out search_lag",
            0,
            null,
            null,
            wait);
      }
    }
    DeliveryResult found = search(key, label);
    return found != null ? found : create(key, request);
  }

  @Override
  public void close() {
    transport.close();
  }

  /** The issue this process made for the key, if it still exists; null when it is gone. */
  private DeliveryResult confirm(String issueKey) {
    HttpTransport.Answer answer;
    try {
      answer = exchange("GET", "/rest/api/3/issue/" + issueKey + "?fields=labels", null);
    } catch (IOException e) {
      return HttpOutcomes.ofFailure(e);
    }
    if (answer.status() == 404) {
      return null;
    }
    return answer.status() == 200
        ? new Delivered(200, "already created as " + issueKey)
        : outcome(answer);
  }

  /** The issue an earlier attempt made, found by its label; null when there is none. */
  private DeliveryResult search(String key, String label) {
    ObjectNode query = JSON.createObjectNode();
    query.put("jql", "project = " + quoted(settings.project()) + " AND labels = " + quoted(label));
    query.putArray("fields").add("key");
    query.put("maxResults", 10);
    HttpTransport.Answer answer;
    try {
      answer =
          exchange(
              "POST", "/rest/api/3/search/jql", query.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      return HttpOutcomes.ofFailure(e); // a search changes nothing: never ambiguous
    }
    if (answer.status() != 200) {
      return outcome(answer);
    }
    List<String> keys = new ArrayList<>();
    JsonNode issues = parse(answer.body()).path("issues");
    if (!issues.isArray()) {
      return new RetryLater("jira search: answer without issues", 200, null, excerpt(answer));
    }
    issues.forEach(issue -> keys.add(issue.path("key").asText(issue.path("id").asText())));
    if (keys.isEmpty()) {
      return null;
    }
    known.put(key, new Known(keys.get(0), null));
    if (keys.size() > 1) {
      LOG.warn("jira destination {}: duplicate issues {} carry label {}", name, keys, label);
      return new Delivered(200, "found " + String.join(", ", keys) + ": duplicates, not deleted");
    }
    return new Delivered(200, "found " + keys.get(0) + " created by an earlier attempt");
  }

  private DeliveryResult create(String key, ObjectNode request) {
    byte[] body = request.toString().getBytes(StandardCharsets.UTF_8);
    HttpTransport.Answer answer;
    try {
      answer = exchange("POST", "/rest/api/3/issue", body);
    } catch (IOException | RuntimeException e) {
      DeliveryResult failure = HttpOutcomes.ofFailure(e);
      if (e instanceof ConnectException || e instanceof ConnectTimeoutException) {
        return failure; // never reached Jira: nothing can have been created
      }
      return ambiguous(key, (RetryLater) failure);
    }
    int status = answer.status();
    if (status >= 200 && status < 300) {
      JsonNode issueKey = parse(answer.body()).path("key");
      if (issueKey.isTextual() && ISSUE_KEY.matcher(issueKey.asText()).matches()) {
        known.put(key, new Known(issueKey.asText(), null));
        return new Delivered(status, "created " + issueKey.asText());
      }
      // created, but which issue is unknown: a replay waits out the lag and finds it by label
      known.put(key, new Known(null, clock.instant()));
      return new Delivered(status, excerpt(answer));
    }
    DeliveryResult outcome = outcome(answer);
    return status >= 500 && outcome instanceof RetryLater retry ? ambiguous(key, retry) : outcome;
  }

  /**
   * The create may have worked: no new create, nor a search, before the search lag has passed. Only
   * this delivery waits the lag; a {@code Retry-After} Jira sent still holds the destination.
   */
  private DeliveryResult ambiguous(String key, RetryLater failure) {
    known.put(key, new Known(null, clock.instant()));
    return failure.withNotBefore(settings.searchLag());
  }

  private HttpTransport.Answer exchange(String method, String path, byte[] body)
      throws IOException {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Authorization", settings.authorization());
    headers.put("Accept", "application/json");
    headers.put("User-Agent", "switchboard");
    if (body != null) {
      headers.put("Content-Type", "application/json");
    }
    return transport.exchange(method, settings.api(path), headers, body);
  }

  /** Any answer but a success, in the one mapping, with Jira's ISO rate-limit reset. */
  private DeliveryResult outcome(HttpTransport.Answer answer) {
    Instant now = clock.instant();
    String excerpt = HttpOutcomes.excerpt(answer.body(), EXCERPT_CHARS);
    DeliveryResult result = HttpOutcomes.of(answer.status(), answer.headers(), excerpt, now);
    return switch (result) {
      case RetryLater retry ->
          new RetryLater(
              "jira " + answer.status(),
              retry.status(),
              retry.retryAfter() != null ? retry.retryAfter() : isoReset(answer.headers(), now),
              excerpt,
              null,
              retry.errorClass());
      case Rejected no ->
          new Rejected(
              "jira " + answer.status() + fieldErrors(answer.body()),
              no.status(),
              excerpt,
              no.errorClass());
      case Delivered ok -> ok;
    };
  }

  /** {@code X-RateLimit-Reset: 2025-06-01T10:05Z}, as time from now; null when absent or bad. */
  private static Duration isoReset(HttpOutcomes.Headers headers, Instant now) {
    String value = headers.first("X-RateLimit-Reset");
    if (value == null) {
      return null;
    }
    try {
      Duration wait = Duration.between(now, OffsetDateTime.parse(value.trim()).toInstant());
      return wait.isNegative() ? Duration.ZERO : wait;
    } catch (DateTimeException e) {
      return null;
    }
  }

  /** {@code " (fields: description, labels)"} from Jira's {@code errors} map, or "". */
  private static String fieldErrors(String body) {
    List<String> names = new ArrayList<>();
    parse(body).path("errors").fieldNames().forEachRemaining(names::add);
    return names.isEmpty() ? "" : " (fields: " + String.join(", ", names) + ")";
  }

  /** The answer as JSON; a missing node when it is not JSON. */
  private static JsonNode parse(String body) {
    try {
      JsonNode node = JSON.readTree(body == null ? "" : body);
      return node == null ? JSON.missingNode() : node;
    } catch (IOException e) {
      return JSON.missingNode();
    }
  }

  private static String excerpt(HttpTransport.Answer answer) {
    return HttpOutcomes.excerpt(answer.body(), EXCERPT_CHARS);
  }

  /** A JQL string literal. */
  private static String quoted(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
