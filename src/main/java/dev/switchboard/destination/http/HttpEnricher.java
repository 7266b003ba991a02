package dev.switchboard.destination.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.EnricherConfig;
import dev.switchboard.config.EnricherSettings;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.LookupRate;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code http} enricher: GETs a JSON record from any HTTP API under its base {@code url}, with
 * the same {@code auth:} options as the {@code http} destination ({@link HttpAuthenticator}; an
 * OAuth token is shared per client and renewed once on a 401). docs/enrichment.md.
 *
 * <p>Failure policy: a 2xx with JSON is found; a 2xx without a body is found as JSON null; 404 is
 * found as JSON null too, so a route can decide on "none found" ({@code when_enriched: $contact =
 * null}) instead of retrying a record that will never appear; 408, 425, 429 (with its {@code
 * Retry-After}), 5xx, timeouts, connection errors and a token endpoint that refuses the client are
 * tried again later; other statuses (400, 401 after a fresh token, 403, 3xx) and a 2xx that is not
 * JSON fail the delivery. The path (which holds values from the event), tokens, secrets and answers
 * are never logged.
 */
public final class HttpEnricher implements Enricher {
  private static final Logger LOG = LoggerFactory.getLogger(HttpEnricher.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final int MAX_ANSWER_BYTES = 512 * 1024;
  private static final int MAX_CONNECTIONS = 16;

  /**
   * The enricher's keys, read by {@link HttpEnricherDescriptor} when the file is loaded.
   *
   * @param url the base URL paths are appended to, without a trailing slash, query or fragment
   * @param auth how calls authenticate, or null for none
   * @param headers extra request headers, in file order
   * @param timeout longest wait for an answer once connected
   */
  public record Settings(URI url, HttpAuth auth, Map<String, String> headers, Duration timeout)
      implements EnricherSettings {
    public Settings {
      headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    /** Never a header value or a credential: a record's default would print them. */
    @Override
    public String toString() {
      return "Settings[" + url.getHost() + (auth == null ? "" : ", auth=" + auth) + "]";
    }
  }

  private final String name;
  private final Settings settings;
  private final Clock clock;
  private final HttpTransport transport;
  private final HttpAuthenticator authenticator;
  private final LookupRate rate;

  /**
   * @param sessions the gateway's shared OAuth tokens
   * @throws IllegalArgumentException when the configuration was not read as {@code http}
   */
  public HttpEnricher(EnricherConfig config, Clock clock, OAuthSessions sessions) {
    this.name = config.name();
    if (!(config.settings() instanceof Settings read)) {
      throw new IllegalArgumentException("enricher " + config.name() + " has no http settings");
    }
    this.settings = read;
    this.clock = clock;
    this.transport =
        new HttpTransport(CONNECT_TIMEOUT, settings.timeout(), MAX_CONNECTIONS, MAX_ANSWER_BYTES);
    this.authenticator = new HttpAuthenticator(settings.auth(), sessions);
    this.rate = LookupRate.of(config.rateLimit());
    LOG.info("http enricher {} reads from {}", name, settings.url().getHost());
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Lookup get(String path) {
    URI uri;
    try {
      uri = Enricher.under(settings.url(), path);
    } catch (IllegalArgumentException e) {
      return new Lookup.Failed(e.getMessage(), 0);
    }
    if (!rate.acquire(settings.timeout())) {
      return LookupRate.NO_SLOT;
    }
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Accept", "application/json");
    headers.put("User-Agent", "switchboard");
    headers.putAll(settings.headers());
    HttpTransport.Answer answer;
    try {
      answer = authenticator.exchange(transport, "GET", uri, headers, null);
    } catch (OAuthClientCredentials.Refused refused) {
      // the client's credentials, not the event's: retried (bounded by the destination's max_age)
      LOG.warn("http enricher {}: no token: {}", name, refused.getMessage());
      return new Lookup.RetryLater("auth: " + refused.getMessage(), refused.status(), null);
    } catch (IOException | RuntimeException e) {
      String error =
          HttpOutcomes.ofFailure(e) instanceof DeliveryResult.RetryLater r
              ? r.error()
              : "connection error";
      LOG.debug("http enricher {}: {}", name, error);
      return new Lookup.RetryLater("http: " + error, 0, null);
    }
    return classify(answer);
  }

  @Override
  public void close() {
    transport.close();
  }

  private Lookup classify(HttpTransport.Answer answer) {
    int status = answer.status();
    String error = "http " + status;
    if (status == 404 || status == 204 || status >= 200 && status < 300 && blank(answer.body())) {
      return new Lookup.Found(null); // "none found": the route decides with when_enriched
    }
    if (status >= 200 && status < 300) {
      try {
        return new Lookup.Found(JSON.readValue(answer.body(), Object.class));
      } catch (IOException e) {
        return new Lookup.Failed(
            error + ": the answer is not JSON (or larger than 512 KB)", status);
      }
    }
    if (status == 408 || status == 425 || status == 429 || status >= 500) {
      return new Lookup.RetryLater(
          error, status, HttpOutcomes.retryAfter(answer.headers(), clock.instant()));
    }
    return new Lookup.Failed(error, status);
  }

  private static boolean blank(String body) {
    return body == null || body.isBlank();
  }
}
