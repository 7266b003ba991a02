package dev.switchboard.destination.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.expr.ExpressionException;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code http} connector: one request per attempt to a configured method and URL, with an
 * {@code Idempotency-Key} header and, when {@code sign} is configured, Standard Webhooks headers
 * whose {@code webhook-id} is the idempotency key, so a receiver sees the same id on every retry.
 *
 * <p>Failure policy: every answer and every transport failure becomes a {@link DeliveryResult};
 * redirects are not followed (a moved Zapier or Power Automate URL is a configuration error, not
 * something to chase). The URL is never logged or put in a result, only {@link
 * HttpDestinationSettings#safeTarget()}, and answers are {@link HttpDestinationSettings#redact
 * redacted} of the URL's query before they are kept.
 *
 * <p>With {@code auth:}, each request carries the credentials of {@link HttpAuthenticator}; an
 * OAuth token is renewed once on a 401 inside the attempt, and a token endpoint that refuses the
 * client makes the attempt a retry of class {@code auth}. A templated URL or header is filled from
 * the outbound body and the delivery's bindings ({@link HttpTemplates}); a placeholder without a
 * usable value dead-letters the delivery, since every retry would find the same. A route's {@code
 * method:} replaces the destination's.
 */
public final class HttpDestination implements Destination {
  private static final Logger LOG = LoggerFactory.getLogger(HttpDestination.class);

  /** Enough of an answer for the attempt history; the rest is discarded unread. */
  static final int MAX_ANSWER_BYTES = 8 * 1024;

  private static final int EXCERPT_CHARS = 500;
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Produces the Standard Webhooks headers for a body. The composition root passes {@code
   * StandardWebhooksVerifier::sign}: destinations may not import the ingest package, and the HMAC
   * code lives there once.
   */
  @FunctionalInterface
  public interface Signer {
    /**
     * @throws IllegalArgumentException when the secret is malformed
     */
    Map<String, String> sign(byte[] body, String secret, Instant now, String webhookId);
  }

  private final String name;
  private final HttpDestinationSettings settings;
  private final Clock clock;
  private final Signer signer;
  private final HttpTransport transport;
  private final HttpAuthenticator authenticator;
  private OAuthSessions ownSessions;

  /** A destination without OAuth sessions: {@code auth: oauth2-client-credentials} gets its own. */
  public HttpDestination(DestinationConfig config, Clock clock, Signer signer) {
    this(config, clock, signer, null);
  }

  /**
   * @param clock gives the {@code webhook-timestamp} of signed attempts
   * @param signer signs bodies when {@code sign} is configured; may be null otherwise
   * @param sessions the gateway's shared OAuth tokens; null for a set of this destination's own
   * @throws IllegalArgumentException when a setting or the signing secret is malformed
   */
  public HttpDestination(
      DestinationConfig config, Clock clock, Signer signer, OAuthSessions sessions) {
    this.name = config.name();
    this.settings = HttpDestinationSettings.of(config);
    this.clock = clock;
    this.signer = signer;
    if (settings.signSecret() != null) {
      if (signer == null) {
        throw new IllegalArgumentException("destination " + name + " signs but has no signer");
      }
      // A malformed secret fails at startup, not on every attempt.
      signer.sign(new byte[0], settings.signSecret(), clock.instant(), "msg_check");
    }
    this.transport =
        new HttpTransport(
            settings.connectTimeout(), settings.timeout(), config.concurrency(), MAX_ANSWER_BYTES);
    this.authenticator =
        new HttpAuthenticator(
            settings.auth(),
            sessions != null || settings.auth() == null ? sessions : ownSessions());
    LOG.info("http destination {} sends to {}", name, settings.safeTarget());
  }

  public HttpDestinationSettings settings() {
    return settings;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public DeliveryResult send(OutboundDelivery delivery) {
    long maxBodyBytes = settings.maxBodyBytes();
    if (maxBodyBytes > 0 && delivery.body().length > maxBodyBytes) {
      return new Rejected(
          "body larger than "
              + settings.preset().configName()
              + "'s "
              + (maxBodyBytes >> 20)
              + " MB limit",
          0,
          null);
    }
    String method = delivery.method() != null ? delivery.method() : settings.method();
    URI uri;
    Map<String, String> headers;
    try {
      Object input = templated() ? parsed(delivery.body()) : null;
      Map<String, ?> bindings = delivery.bindings() == null ? Map.of() : delivery.bindings();
      uri =
          settings.urlTemplate() == null
              ? settings.url()
              : HttpTemplates.fill(settings.urlTemplate(), input, bindings);
      headers = headers(delivery, input, bindings);
    } catch (ExpressionException e) {
      // the same body and bindings fill the template the same way on every retry
      return new Rejected(e.getMessage(), 0, null, ErrorClass.ERROR);
    }
    try {
      HttpTransport.Answer answer =
          authenticator.exchange(transport, method, uri, headers, body(method, delivery));
      return HttpOutcomes.of(
          answer.status(),
          answer.headers(),
          HttpOutcomes.excerpt(settings.redact(answer.body()), EXCERPT_CHARS),
          clock.instant());
    } catch (OAuthClientCredentials.Refused refused) {
      // the client's credentials, not this delivery: retried, so fixed credentials deliver it
      LOG.warn("http destination {}: no token: {}", name, refused.getMessage());
      return RetryLater.noAnswer(ErrorClass.AUTH, "auth: " + refused.getMessage(), null, null);
    } catch (IOException | RuntimeException e) {
      DeliveryResult failure = HttpOutcomes.ofFailure(e);
      LOG.debug("http destination {} ({}): {}", name, settings.safeTarget(), failure);
      return failure;
    }
  }

  @Override
  public void close() {
    transport.close();
    if (ownSessions != null) {
      ownSessions.close();
    }
  }

  private Map<String, String> headers(
      OutboundDelivery delivery, Object input, Map<String, ?> bindings) {
    Map<String, String> headers = new LinkedHashMap<>(settings.headers());
    settings
        .headerTemplates()
        .forEach(
            (header, template) ->
                headers.put(header, HttpTemplates.fillHeader(header, template, input, bindings)));
    if (!configures("content-type")) {
      headers.put("Content-Type", "application/json");
    }
    if (!configures("user-agent")) {
      headers.put("User-Agent", "switchboard");
    }
    if (delivery.extraHeaders() != null) {
      headers.putAll(delivery.extraHeaders());
    }
    if (delivery.idempotencyKey() != null) {
      headers.put("Idempotency-Key", delivery.idempotencyKey());
    }
    if (settings.signSecret() != null) {
      headers.putAll(
          signer.sign(
              delivery.body(), settings.signSecret(), clock.instant(), delivery.idempotencyKey()));
    }
    return headers;
  }

  private byte[] body(String method, OutboundDelivery delivery) {
    boolean bodiless = method.equals("GET") || method.equals("HEAD");
    return bodiless && delivery.body().length == 0 ? null : delivery.body();
  }

  private boolean templated() {
    return settings.urlTemplate() != null || !settings.headerTemplates().isEmpty();
  }

  /** The outbound body as JSON, the templates' root; null when it is not JSON. */
  private static Object parsed(byte[] body) {
    if (body == null || body.length == 0) {
      return null;
    }
    try {
      return JSON.readValue(body, Object.class);
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * The OAuth sessions of a destination built without the gateway's (a test, a tool): closed with
   * it.
   */
  private OAuthSessions ownSessions() {
    ownSessions = new OAuthSessions(clock);
    return ownSessions;
  }

  private boolean configures(String lowerCaseHeader) {
    return settings.headers().keySet().stream()
        .anyMatch(header -> header.toLowerCase(Locale.ROOT).equals(lowerCaseHeader));
  }
}
