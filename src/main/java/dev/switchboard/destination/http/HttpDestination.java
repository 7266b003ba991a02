package dev.switchboard.destination.http;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.OutboundDelivery;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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

  /**
   * Runs the client's own tasks (reading answers, completing futures) on virtual threads rather
   * than the default pool of platform threads, whose hand-offs cost more CPU per request under
   * load.
   */
  private static final java.util.concurrent.Executor EXECUTOR =
      java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();

  private final String name;
  private final HttpDestinationSettings settings;
  private final Clock clock;
  private final Signer signer;
  private final HttpClient client;

  /**
   * @param clock gives the {@code webhook-timestamp} of signed attempts
   * @param signer signs bodies when {@code sign} is configured; may be null otherwise
   * @throws IllegalArgumentException when a setting or the signing secret is malformed
   */
  public HttpDestination(DestinationConfig config, Clock clock, Signer signer) {
    this.name = config.name();
    this.settings = HttpDestinationSettings.from(config);
    this.clock = clock;
    this.signer = signer;
    if (settings.signSecret() != null) {
      if (signer == null) {
        throw new IllegalArgumentException("destination " + name + " signs but has no signer");
      }
      // A malformed secret fails at startup, not on every attempt.
      signer.sign(new byte[0], settings.signSecret(), clock.instant(), "msg_check");
    }
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(settings.connectTimeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .executor(EXECUTOR)
            .build();
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
    CompletableFuture<HttpResponse<String>> answer =
        client.sendAsync(request(delivery), BoundedBody.handler(MAX_ANSWER_BYTES));
    // The request timeout only covers the wait for the status line; this bounds the whole attempt.
    Duration deadline = settings.connectTimeout().plus(settings.timeout());
    try {
      HttpResponse<String> response = answer.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
      return HttpOutcomes.of(
          response.statusCode(),
          response.headers(),
          HttpOutcomes.excerpt(settings.redact(response.body()), EXCERPT_CHARS),
          clock.instant());
    } catch (TimeoutException e) {
      answer.cancel(true);
      return transportFailure(timeoutMessage());
    } catch (ExecutionException e) {
      DeliveryResult failure = HttpOutcomes.ofFailure(e.getCause());
      LOG.debug("http destination {} ({}): {}", name, settings.safeTarget(), failure);
      return failure;
    } catch (InterruptedException e) {
      answer.cancel(true);
      Thread.currentThread().interrupt();
      return transportFailure("interrupted before an answer");
    }
  }

  @Override
  public void close() {
    client.shutdownNow();
  }

  private HttpRequest request(OutboundDelivery delivery) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(settings.url()).timeout(settings.timeout());
    settings.headers().forEach(request::setHeader);
    if (!configures("content-type")) {
      request.setHeader("Content-Type", "application/json");
    }
    if (!configures("user-agent")) {
      request.setHeader("User-Agent", "switchboard");
    }
    if (delivery.extraHeaders() != null) {
      delivery.extraHeaders().forEach(request::setHeader);
    }
    if (delivery.idempotencyKey() != null) {
      request.setHeader("Idempotency-Key", delivery.idempotencyKey());
    }
    byte[] body = delivery.body();
    if (settings.signSecret() != null) {
      signer
          .sign(body, settings.signSecret(), clock.instant(), delivery.idempotencyKey())
          .forEach(request::setHeader);
    }
    return request
        .method(
            settings.method(),
            body.length == 0 ? BodyPublishers.noBody() : BodyPublishers.ofByteArray(body))
        .build();
  }

  private boolean configures(String lowerCaseHeader) {
    return settings.headers().keySet().stream()
        .anyMatch(header -> header.toLowerCase(Locale.ROOT).equals(lowerCaseHeader));
  }

  private DeliveryResult transportFailure(String error) {
    LOG.debug("http destination {} ({}): {}", name, settings.safeTarget(), error);
    return new RetryLater(error, 0, null, null);
  }

  private String timeoutMessage() {
    return "timeout: no answer within " + settings.timeout().toMillis() + " ms";
  }
}
