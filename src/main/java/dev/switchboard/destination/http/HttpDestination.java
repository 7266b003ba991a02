package dev.switchboard.destination.http;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.OutboundDelivery;
import java.io.IOException;
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
 */
public final class HttpDestination implements Destination {
  private static final Logger LOG = LoggerFactory.getLogger(HttpDestination.class);

  /** Enough of an answer for the attempt history; the rest is discarded unread. */
  static final int MAX_ANSWER_BYTES = 8 * 1024;

  private static final int EXCERPT_CHARS = 500;

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

  /**
   * @param clock gives the {@code webhook-timestamp} of signed attempts
   * @param signer signs bodies when {@code sign} is configured; may be null otherwise
   * @throws IllegalArgumentException when a setting or the signing secret is malformed
   */
  public HttpDestination(DestinationConfig config, Clock clock, Signer signer) {
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
    try {
      HttpTransport.Answer answer =
          transport.exchange(settings.method(), settings.url(), headers(delivery), body(delivery));
      return HttpOutcomes.of(
          answer.status(),
          answer.headers(),
          HttpOutcomes.excerpt(settings.redact(answer.body()), EXCERPT_CHARS),
          clock.instant());
    } catch (IOException | RuntimeException e) {
      DeliveryResult failure = HttpOutcomes.ofFailure(e);
      LOG.debug("http destination {} ({}): {}", name, settings.safeTarget(), failure);
      return failure;
    }
  }

  @Override
  public void close() {
    transport.close();
  }

  private Map<String, String> headers(OutboundDelivery delivery) {
    Map<String, String> headers = new LinkedHashMap<>(settings.headers());
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

  private byte[] body(OutboundDelivery delivery) {
    boolean bodiless = settings.method().equals("GET") || settings.method().equals("HEAD");
    return bodiless && delivery.body().length == 0 ? null : delivery.body();
  }

  private boolean configures(String lowerCaseHeader) {
    return settings.headers().keySet().stream()
        .anyMatch(header -> header.toLowerCase(Locale.ROOT).equals(lowerCaseHeader));
  }
}
