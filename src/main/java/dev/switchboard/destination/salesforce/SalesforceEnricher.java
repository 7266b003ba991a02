package dev.switchboard.destination.salesforce;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.EnricherConfig;
import dev.switchboard.config.EnricherSettings;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.LookupRate;
import dev.switchboard.destination.http.HttpOutcomes;
import dev.switchboard.destination.http.HttpTransport;
import dev.switchboard.destination.http.OAuthClientCredentials;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code salesforce} enricher: runs a route's SOQL {@code query:} ({@code GET
 * /services/data/vXX.X/query?q=…}) and gives {@code {"totalSize": n, "records": [...]}}, the
 * records as Salesforce sends them ({@code attributes} included), so that a route can look a
 * Contact up by phone and create a Case only when there is none (docs/enrichment.md).
 *
 * <p>Authentication is the {@code salesforce} destination's: the client's one shared session
 * ({@link SalesforceClient#session}), calls to the token's {@code instance_url}, one new token
 * after 401 {@code INVALID_SESSION_ID} ({@link SalesforceDataApi}).
 *
 * <p>Paging: while {@code done} is false, {@code nextRecordsUrl} is followed, up to {@link
 * #MAX_RECORDS} records in at most {@link #MAX_PAGES} pages; a query that matches more fails the
 * delivery with a hint to add a {@code LIMIT}, since an enrichment is a lookup, not an export.
 *
 * <p>Failure policy: the answers are read as the destination reads them ({@link
 * SalesforceOutcomes}): 5xx, 429, {@code REQUEST_LIMIT_EXCEEDED} (403), {@code UNABLE_TO_LOCK_ROW},
 * no answer and a refused client are tried again later; other 4xx ({@code MALFORMED_QUERY}, {@code
 * INVALID_FIELD}, …) fail the delivery with Salesforce's code and message. Tokens, the secret,
 * queries (they hold the event's values) and records are never logged.
 */
public final class SalesforceEnricher implements Enricher {
  private static final Logger LOG = LoggerFactory.getLogger(SalesforceEnricher.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** At most this many records: one full page as Salesforce pages by default. */
  static final int MAX_RECORDS = 2_000;

  /** Salesforce may page smaller than 2,000 records (never below 200, so 10 pages hold 2,000). */
  static final int MAX_PAGES = 10;

  static final String QUERY_PATH = "/query?q=";
  private static final Duration TIMEOUT = Duration.ofSeconds(15);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final int MAX_ANSWER_BYTES = 8 << 20;

  /** The enricher's keys, read by {@link SalesforceEnricherDescriptor} when the file is loaded. */
  public record Settings(SalesforceClient client) implements EnricherSettings {}

  private final String name;
  private final SalesforceClient client;
  private final HttpTransport transport;
  private final SalesforceDataApi api;
  private final SalesforceOutcomes outcomes;
  private final LookupRate rate;

  public SalesforceEnricher(EnricherConfig config, ConnectorContext context) {
    this.name = config.name();
    if (!(config.settings() instanceof Settings read)) {
      throw new IllegalArgumentException(
          "enricher " + config.name() + " has no salesforce settings");
    }
    this.client = read.client();
    this.transport = new HttpTransport(CONNECT_TIMEOUT, TIMEOUT, 16, MAX_ANSWER_BYTES);
    this.api = new SalesforceDataApi(client, client.session(context.sessions()), transport);
    this.outcomes = new SalesforceOutcomes(null, context.clock());
    this.rate = LookupRate.of(config.rateLimit());
    LOG.info("salesforce enricher {}: {}", name, client);
  }

  @Override
  public String name() {
    return name;
  }

  /**
   * Runs a query.
   *
   * @param path {@code /query?q=} and the URL-encoded SOQL, as a route's {@code query:} renders it
   */
  @Override
  public Lookup get(String path) {
    if (path == null || !path.startsWith(QUERY_PATH)) {
      return new Lookup.Failed("a salesforce enricher runs a route's query:, not a path", 0);
    }
    String next = client.dataPath() + path;
    List<Object> records = new ArrayList<>();
    long totalSize = 0;
    for (int page = 0; ; page++) {
      if (page == MAX_PAGES) {
        return tooMany(totalSize);
      }
      if (!rate.acquire(TIMEOUT)) {
        return LookupRate.NO_SLOT;
      }
      HttpTransport.Answer answer;
      try {
        answer = api.exchange("GET", next, null);
      } catch (OAuthClientCredentials.Refused refused) {
        // wrong credentials are the configuration's fault, not the event's: fixed, they serve
        // every delivery that waited (the destination's max_age bounds the wait)
        return new Lookup.RetryLater("salesforce " + refused.getMessage(), refused.status(), null);
      } catch (IOException | RuntimeException e) {
        return noAnswer(e);
      }
      if (answer.status() != 200) {
        return classify(answer);
      }
      JsonNode body = parse(answer.body());
      JsonNode rows = body.path("records");
      if (!rows.isArray()) {
        return new Lookup.RetryLater(
            "salesforce: the query answer is not complete JSON", 200, null);
      }
      if (page == 0) {
        totalSize = body.path("totalSize").asLong(rows.size());
        if (totalSize > MAX_RECORDS) {
          return tooMany(totalSize);
        }
      }
      for (JsonNode row : rows) {
        records.add(JSON.convertValue(row, Object.class));
      }
      if (records.size() > MAX_RECORDS) {
        return tooMany(Math.max(totalSize, records.size()));
      }
      if (body.path("done").asBoolean(true)) {
        break;
      }
      next = body.path("nextRecordsUrl").asText("");
      if (!next.startsWith(client.dataPath() + "/query/") || next.contains("..")) {
        // the locator goes to the instance with our token: only a query locator, as documented
        return new Lookup.Failed(
            "salesforce: the query answer's nextRecordsUrl is not a locator", 200);
      }
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("totalSize", totalSize);
    result.put("records", records);
    return new Lookup.Found(result);
  }

  @Override
  public void close() {
    transport.close();
  }

  private Lookup classify(HttpTransport.Answer answer) {
    return switch (outcomes.of(answer)) {
      case DeliveryResult.RetryLater later ->
          new Lookup.RetryLater(later.error(), later.status(), later.retryAfter());
      case DeliveryResult.Rejected refused -> new Lookup.Failed(refused.error(), refused.status());
      case DeliveryResult.Delivered delivered ->
          new Lookup.Failed(
              "salesforce " + answer.status() + ": not a query answer", answer.status());
    };
  }

  private static Lookup tooMany(long totalSize) {
    return new Lookup.Failed(
        "salesforce query matched "
            + totalSize
            + " records, more than the "
            + MAX_RECORDS
            + " an enrichment reads: add a LIMIT or a narrower WHERE",
        200);
  }

  private Lookup noAnswer(Exception e) {
    String error =
        HttpOutcomes.ofFailure(e) instanceof DeliveryResult.RetryLater r
            ? r.error()
            : "connection error";
    LOG.debug("salesforce enricher {}: {}", name, error);
    return new Lookup.RetryLater("salesforce: " + error, 0, null);
  }

  private static JsonNode parse(String body) {
    try {
      JsonNode node = body == null ? null : JSON.readTree(body);
      return node == null ? JSON.missingNode() : node;
    } catch (IOException e) {
      return JSON.missingNode();
    }
  }
}
