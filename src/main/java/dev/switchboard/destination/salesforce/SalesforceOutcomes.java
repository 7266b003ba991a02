package dev.switchboard.destination.salesforce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.http.HttpOutcomes;
import dev.switchboard.destination.http.HttpTransport.Answer;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Salesforce REST API's answers read into {@link DeliveryResult}s: what {@link HttpOutcomes} is
 * for plain HTTP, with Salesforce's error bodies ({@code [{"message","errorCode"}]}), sObject
 * Collections items ({@code statusCode} per record), {@code Sforce-Limit-Info} and {@code
 * REQUEST_LIMIT_EXCEEDED} (docs/connectors.md, "Salesforce"). One per destination: it counts limit
 * refusals in a row.
 *
 * <p>Failure policy: 2xx delivered; 5xx, 401 (still, after a fresh token), 429 (which Salesforce
 * does not document, but which always means later) and the codes in {@link #RETRYABLE_CODES} are
 * tried again; 300 (several records match the external id), other 4xx (field errors, 404 unknown
 * object or field, 410 retired API version) are dead at once with Salesforce's code and message in
 * the error, {@code salesforce INVALID_FIELD: No such column …}. Salesforce sends no {@code
 * Retry-After}: the waits below are ours.
 */
final class SalesforceOutcomes {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int EXCERPT_CHARS = 500;
  private static final int MESSAGE_CHARS = 200;

  /** Transient by Salesforce's own account: "no corrective action is needed". */
  static final Set<String> RETRYABLE_CODES =
      Set.of(
          "UNABLE_TO_LOCK_ROW",
          "SERVER_UNAVAILABLE",
          "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE");

  static final String LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED";
  static final Duration LIMIT_BACKOFF_FIRST = Duration.ofMinutes(1);
  static final Duration LIMIT_BACKOFF_MAX = Duration.ofMinutes(30);

  /** The org's {@code api-usage}, not a {@code per-app-api-usage} that may come first. */
  private static final Pattern API_USAGE =
      Pattern.compile("(?:^|[;,\\s])api-usage=(\\d{1,15})/(\\d{1,15})");

  private final String externalIdField;
  private final Clock clock;

  /** {@code REQUEST_LIMIT_EXCEEDED} answers in a row: each doubles the destination's wait. */
  private final AtomicInteger limitStrikes = new AtomicInteger();

  SalesforceOutcomes(String externalIdField, Clock clock) {
    this.externalIdField = externalIdField;
    this.clock = clock;
  }

  /** The answer to a single-record call, or to a collections call that failed as a whole. */
  DeliveryResult of(Answer answer) {
    int status = answer.status();
    JsonNode first = parse(answer.body()).path(0);
    String code = first.path("errorCode").asText("");
    String error =
        "salesforce " + (code.isEmpty() ? status : code + ": " + message(first.path("message")));
    if (status == 403 && LIMIT_EXCEEDED.equals(code)) {
      // the org's daily allocation (or its long-request concurrency) is spent: every call is
      // refused until usage falls, so the whole destination waits, longer each time in a row
      return new RetryLater(error, status, limitBackoff(), excerpt(answer));
    }
    limitStrikes.set(0);
    if (status >= 200 && status < 300) {
      return new Delivered(status, excerpt(answer), slowdown(answer));
    }
    if (status == 300) {
      String several = "salesforce 300: several records have this " + externalIdField;
      return new Rejected(several, status, excerpt(answer));
    }
    if (status >= 500 || status == 401 || status == 429 || RETRYABLE_CODES.contains(code)) {
      return new RetryLater(error, status, slowdown(answer), excerpt(answer));
    }
    if (status >= 400) {
      return new Rejected(error, status, excerpt(answer));
    }
    DeliveryResult other =
        HttpOutcomes.of(status, answer.headers(), excerpt(answer), clock.instant());
    return other instanceof Rejected r
        ? new Rejected("salesforce " + r.error(), status, r.excerpt())
        : other;
  }

  /**
   * A collections answer: 200 with one item per record, in order, even when every record failed. A
   * failed record is reported with status 400, as the same record sent alone would have been
   * answered, so that it files under 4xx for bulk replay.
   */
  List<DeliveryResult> ofCollection(Answer answer, int count) {
    JsonNode items = parse(answer.body());
    if (answer.status() != 200 || !(items instanceof ArrayNode)) {
      return Collections.nCopies(count, of(answer));
    }
    limitStrikes.set(0);
    Duration slow = slowdown(answer);
    if (items.size() != count) {
      // the upserts may have happened: trying them again is harmless by external id
      String error = "salesforce: " + items.size() + " results for " + count + " records";
      return Collections.nCopies(count, new RetryLater(error, 200, slow, excerpt(answer)));
    }
    List<DeliveryResult> results = new ArrayList<>(count);
    for (JsonNode item : items) {
      String text = HttpOutcomes.excerpt(item.toString(), EXCERPT_CHARS);
      if (item.path("success").asBoolean(false)) {
        results.add(new Delivered(item.path("created").asBoolean(false) ? 201 : 200, text, slow));
        continue;
      }
      JsonNode first = item.path("errors").path(0);
      String code = first.path("statusCode").asText("UNKNOWN");
      String error = "salesforce " + code + ": " + message(first.path("message"));
      results.add(
          RETRYABLE_CODES.contains(code)
              ? new RetryLater(error, 400, slow, text)
              : new Rejected(error, 400, text));
    }
    return results;
  }

  /** The first {@code errorCode} of a Salesforce error array, or "". */
  static String code(Answer answer) {
    return parse(answer.body()).path(0).path("errorCode").asText("");
  }

  /**
   * How long the whole destination waits after an answer whose {@code Sforce-Limit-Info} shows the
   * org's rolling 24-hour API usage near its allocation: nothing below 90 %, then 6 s for every
   * percentage point above 89 % (90 % → 6 s, 95 % → 36 s), at most a minute (99 % and over). The
   * allocation is shared by every integration of the org, so the closer it is, the more of the rest
   * we leave to the others; requests still go out, and a batch still carries up to 200 records.
   *
   * @return the wait, or null when the header is absent, unreadable or below 90 %
   */
  static Duration slowdown(Answer answer) {
    String info = answer.headers() == null ? null : answer.headers().first("Sforce-Limit-Info");
    Matcher m = info == null ? null : API_USAGE.matcher(info);
    if (m == null || !m.find()) {
      return null;
    }
    long used = Long.parseLong(m.group(1));
    long max = Long.parseLong(m.group(2));
    if (max <= 0 || used * 10 < max * 9) {
      return null;
    }
    double pointsOver = Math.min(10.0, used * 100.0 / max - 89.0);
    return Duration.ofMillis(Math.round(pointsOver * 6_000));
  }

  /** 1 minute, doubling with each refusal in a row, at most 30 minutes. */
  private Duration limitBackoff() {
    int strikes = Math.min(limitStrikes.incrementAndGet(), 16);
    Duration wait = LIMIT_BACKOFF_FIRST.multipliedBy(1L << (strikes - 1));
    return wait.compareTo(LIMIT_BACKOFF_MAX) > 0 ? LIMIT_BACKOFF_MAX : wait;
  }

  static String excerpt(Answer answer) {
    return HttpOutcomes.excerpt(answer.body(), EXCERPT_CHARS);
  }

  private static String message(JsonNode message) {
    return HttpOutcomes.excerpt(message.asText(""), MESSAGE_CHARS);
  }

  private static JsonNode parse(String body) {
    try {
      JsonNode node = body == null ? null : JSON.readTree(body);
      return node == null ? JSON.missingNode() : node;
    } catch (IOException e) {
      return JSON.missingNode(); // HTML from the edge, a cut answer, …
    }
  }
}
