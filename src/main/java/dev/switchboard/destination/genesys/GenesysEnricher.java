package dev.switchboard.destination.genesys;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.EnricherConfig;
import dev.switchboard.config.EnricherSettings;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.LookupRate;
import dev.switchboard.destination.http.HttpOutcomes;
import dev.switchboard.destination.http.HttpTransport;
import dev.switchboard.destination.http.OAuthClientCredentials;
import dev.switchboard.destination.http.OAuthSessions;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code genesys-cloud} enricher: GETs a record from the Genesys Cloud Platform API with an
 * OAuth client-credentials token (docs/connectors.md, "Genesys Cloud").
 *
 * <p>Tokens come from {@code POST https://login.<region>/oauth/token} (basic auth with the client
 * id and secret, form {@code grant_type=client_credentials}) through the gateway's shared session
 * of the client ({@link GenesysClient#session}), so a {@code genesys-cloud} destination with the
 * same client uses the same token; they are kept until a minute before {@code expires_in} runs out,
 * and a 401 on a call forgets the token and fetches a new one once. The configured {@code
 * rate_limit} (the API allows 300 requests a minute per token) is kept by waiting, up to the
 * request timeout, for a free slot; waiting longer becomes a retry.
 *
 * <p>Failure policy: 429 (with its {@code Retry-After}), 5xx, timeouts and connection errors are
 * tried again later; so is 404, since an analytics record may not exist yet just after the event,
 * and so is a refused client, which fixed credentials cure (the destination's {@code max_age}
 * bounds both); other 4xx fail the delivery. Tokens, the client secret and response bodies are
 * never logged.
 */
public final class GenesysEnricher implements Enricher {
  private static final Logger LOG = LoggerFactory.getLogger(GenesysEnricher.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(15);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final int MAX_ANSWER_BYTES = 512 * 1024; // the API's request.bytes.max

  /**
   * The enricher's keys, read by {@link GenesysConnector} when the file is loaded.
   *
   * @param loginUrl where tokens are asked for, without a trailing slash
   * @param apiUrl the API the records are read from, without a trailing slash
   */
  public record Settings(URI loginUrl, URI apiUrl, String clientId, String clientSecret)
      implements EnricherSettings {
    /** The OAuth client these keys name, shared with a destination that names the same. */
    GenesysClient client() {
      return new GenesysClient(loginUrl, apiUrl, clientId, clientSecret);
    }

    /** Never the client secret: a record's default would print it. */
    @Override
    public String toString() {
      return "Settings[" + loginUrl.getHost() + ", " + apiUrl.getHost() + "]";
    }
  }

  private final String name;
  private final Settings settings;
  private final Clock clock;
  private final HttpTransport transport;
  private final LookupRate rate;
  private final OAuthClientCredentials tokens;
  private final OAuthSessions ownSessions; // null when the gateway's are used

  /** An enricher with its own token (tests, tools that build one enricher). */
  public GenesysEnricher(EnricherConfig config, Clock clock) {
    this(config, clock, null);
  }

  /**
   * @param sessions the gateway's OAuth sessions, so that a destination with the same client shares
   *     this enricher's token; null for a token of its own
   */
  public GenesysEnricher(EnricherConfig config, Clock clock, OAuthSessions sessions) {
    this.name = config.name();
    if (!(config.settings() instanceof Settings read)) {
      throw new IllegalArgumentException(
          "enricher " + config.name() + " has no genesys-cloud settings");
    }
    this.settings = read;
    this.clock = clock;
    this.transport = new HttpTransport(CONNECT_TIMEOUT, TIMEOUT, 16, MAX_ANSWER_BYTES);
    this.ownSessions = sessions == null ? new OAuthSessions(clock) : null;
    this.tokens = settings.client().session(sessions == null ? ownSessions : sessions);
    this.rate = LookupRate.of(config.rateLimit());
    LOG.info("genesys-cloud enricher {} reads from {}", name, settings.apiUrl().getHost());
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Lookup get(String path) {
    URI uri;
    try {
      uri = Enricher.under(settings.apiUrl(), path);
    } catch (IllegalArgumentException e) {
      return new Lookup.Failed(e.getMessage(), 0);
    }
    if (!rate.acquire(TIMEOUT)) {
      return LookupRate.NO_SLOT;
    }
    for (int round = 0; ; round++) {
      OAuthClientCredentials.Token t;
      try {
        t = tokens.token();
      } catch (OAuthClientCredentials.Refused refused) {
        // a refused client is the configuration's fault, not the event's: retry (bounded by the
        // destination's max_age) so that fixed credentials deliver everything that waited
        return new Lookup.RetryLater(
            "genesys oauth " + refused.status() + code(refused.answer().body()),
            refused.status(),
            null);
      } catch (IOException e) {
        return noAnswer(e);
      }
      HttpTransport.Answer answer;
      try {
        answer =
            transport.exchange(
                "GET",
                uri,
                Map.of("Authorization", "Bearer " + t.value(), "Accept", "application/json"),
                null);
      } catch (IOException e) {
        return noAnswer(e);
      }
      int status = answer.status();
      if (status == 401 && round == 0) {
        tokens.forget(t); // expired or revoked: one new token, one more try
        continue;
      }
      return classify(status, answer, "genesys " + status);
    }
  }

  @Override
  public void close() {
    transport.close();
    if (ownSessions != null) {
      ownSessions.close();
    }
  }

  private Lookup classify(int status, HttpTransport.Answer answer, String error) {
    if (status >= 200 && status < 300) {
      try {
        return new Lookup.Found(JSON.readValue(answer.body(), Object.class));
      } catch (IOException e) {
        return new Lookup.RetryLater(error + ": the answer is not complete JSON", status, null);
      }
    }
    if (status == 404 || status == 408 || status == 429 || status >= 500) {
      Duration wait = HttpOutcomes.retryAfter(answer.headers(), clock.instant());
      return new Lookup.RetryLater(error, status, wait);
    }
    return new Lookup.Failed(error + code(answer.body()), status);
  }

  /** Genesys's error code ({@code "code"} in its JSON error body), never its free text. */
  private static String code(String body) {
    try {
      String code = JSON.readTree(body).path("code").asText("");
      return code.isEmpty() || code.length() > 80 ? "" : " " + code;
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private Lookup noAnswer(IOException e) {
    String error =
        HttpOutcomes.ofFailure(e) instanceof dev.switchboard.destination.DeliveryResult.RetryLater r
            ? r.error()
            : "connection error";
    LOG.debug("genesys-cloud enricher {}: {}", name, error);
    return new Lookup.RetryLater("genesys: " + error, 0, null);
  }
}
