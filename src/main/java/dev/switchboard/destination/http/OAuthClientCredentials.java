package dev.switchboard.destination.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An OAuth 2.0 client-credentials token (RFC 6749 §4.4), fetched when first needed and shared by
 * every attempt of one connector until it runs out or the API refuses it.
 *
 * <p>Lifecycle: {@link #token()} is called concurrently; one caller fetches while the others wait
 * for its result. A caller whose request is answered 401 calls {@link #forget} with the token it
 * used and asks again, once: whether to retry is the caller's decision, never this class's.
 *
 * <p>A token with {@code expires_in} is kept until a margin before it ends; one without (Salesforce
 * sessions end after an idle timeout the client is never told) is kept until forgotten.
 *
 * <p>Failure policy: nothing is retried here. A refusal or an unreadable answer becomes {@link
 * Refused} with the endpoint's answer, for the caller to classify; a refused client (a 4xx but 408
 * and 429) is given to every caller for {@link #REFUSAL_KEPT} without asking again; a broken
 * connection is the transport's {@link IOException}. The client secret and tokens are never logged
 * nor put in a message.
 */
public final class OAuthClientCredentials {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** How long a refusal is answered from memory before the endpoint is asked again. */
  static final Duration REFUSAL_KEPT = Duration.ofSeconds(5);

  /** How the client authenticates to the token endpoint (RFC 6749 §2.3.1). */
  public enum ClientAuth {
    /** {@code Authorization: Basic base64(id:secret)} (Genesys Cloud). */
    BASIC,
    /** {@code client_id} and {@code client_secret} in the form body (Salesforce). */
    FORM
  }

  /**
   * A usable token and the answer's other text fields (Salesforce's {@code instance_url}).
   *
   * @param renewAt when to fetch a new one, or null to keep it until {@link #forget forgotten}
   */
  public record Token(String value, Map<String, String> fields, Instant renewAt) {
    public Token {
      fields = Map.copyOf(fields);
    }

    /** Never the token itself. */
    @Override
    public String toString() {
      return "Token[renewAt=" + renewAt + "]";
    }
  }

  /**
   * The token endpoint gave no token: {@code answer} is what it said (status 200 when the answer
   * held no {@code access_token}); {@code error} is its OAuth error code and description, which
   * never repeat the secret.
   */
  public static final class Refused extends Exception {
    private final transient HttpTransport.Answer answer;

    Refused(String error, HttpTransport.Answer answer) {
      super(error, null, false, false);
      this.answer = answer;
    }

    public HttpTransport.Answer answer() {
      return answer;
    }

    public int status() {
      return answer.status();
    }
  }

  private final HttpTransport transport;
  private final URI tokenUri;
  private final String clientId;
  private final String clientSecret;
  private final ClientAuth auth;
  private final Clock clock;
  private final Duration margin;
  private final Map<String, String> form;
  private final ReentrantLock lock = new ReentrantLock(); // not synchronized: virtual threads wait
  private volatile Token current;

  /** The endpoint's last refusal, repeated to callers until {@link #refusedUntil}. */
  private Refused refusal;

  private Instant refusedUntil = Instant.MIN;

  /**
   * @param margin how long before {@code expires_in} runs out a token is renewed
   */
  public OAuthClientCredentials(
      HttpTransport transport,
      URI tokenUri,
      String clientId,
      String clientSecret,
      ClientAuth auth,
      Clock clock,
      Duration margin) {
    this(transport, tokenUri, clientId, clientSecret, auth, clock, margin, Map.of());
  }

  /**
   * @param form fields added to the token request's form after {@code grant_type} and the client's
   *     credentials, in order: {@code scope} (Entra ID's {@code <app id URI>/.default}), {@code
   *     audience} (Auth0, Okta), or what else the endpoint asks for
   */
  public OAuthClientCredentials(
      HttpTransport transport,
      URI tokenUri,
      String clientId,
      String clientSecret,
      ClientAuth auth,
      Clock clock,
      Duration margin,
      Map<String, String> form) {
    this.form = new LinkedHashMap<>(form);
    this.transport = transport;
    this.tokenUri = tokenUri;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.auth = auth;
    this.clock = clock;
    this.margin = margin;
  }

  /**
   * The cached token, or a new one.
   *
   * @throws Refused when the endpoint answered without a token
   * @throws IOException when there was no answer
   */
  public Token token() throws IOException, Refused {
    Token t = current;
    if (usable(t)) {
      return t;
    }
    lock.lock();
    try {
      t = current;
      if (usable(t)) {
        return t; // fetched by another caller meanwhile
      }
      if (refusal != null && clock.instant().isBefore(refusedUntil)) {
        // every delivery waiting on a refused client would otherwise ask the endpoint again,
        // and a login service throttles (or locks) a client that keeps failing
        throw refusal;
      }
      try {
        t = fetch();
      } catch (Refused refused) {
        int status = refused.status();
        if (status >= 400 && status < 500 && status != 408 && status != 429) {
          // the client itself was refused (wrong secret, unknown client): asking again at once
          // cannot help; a busy or failing endpoint is asked again on the caller's next try
          refusal = refused;
          refusedUntil = clock.instant().plus(REFUSAL_KEPT);
        }
        throw refused;
      }
      refusal = null;
      current = t;
      return t;
    } finally {
      lock.unlock();
    }
  }

  /** The API refused {@code stale}: the next {@link #token()} fetches a new one. */
  public void forget(Token stale) {
    lock.lock();
    try {
      if (current == stale) {
        current = null; // a newer token fetched by another caller stays
      }
    } finally {
      lock.unlock();
    }
  }

  private boolean usable(Token t) {
    return t != null && (t.renewAt() == null || clock.instant().isBefore(t.renewAt()));
  }

  private Token fetch() throws IOException, Refused {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/x-www-form-urlencoded");
    headers.put("Accept", "application/json");
    String request = "grant_type=client_credentials";
    if (auth == ClientAuth.BASIC) {
      String pair = clientId + ":" + clientSecret;
      headers.put(
          "Authorization",
          "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)));
    } else {
      request += "&client_id=" + encode(clientId) + "&client_secret=" + encode(clientSecret);
    }
    for (Map.Entry<String, String> field : form.entrySet()) {
      request += "&" + encode(field.getKey()) + "=" + encode(field.getValue());
    }
    HttpTransport.Answer answer =
        transport.exchange("POST", tokenUri, headers, request.getBytes(StandardCharsets.US_ASCII));
    JsonNode body;
    try {
      body = JSON.readTree(answer.body());
    } catch (IOException e) {
      body = null;
    }
    if (answer.status() != 200) {
      throw new Refused(oauthError(body, answer.status()), answer);
    }
    String value = body == null ? null : body.path("access_token").asText(null);
    if (value == null || value.isEmpty()) {
      throw new Refused("no access_token in the token answer", answer);
    }
    Map<String, String> fields = new LinkedHashMap<>();
    body.properties()
        .forEach(
            field -> {
              if (field.getValue().isTextual() && !field.getKey().equals("access_token")) {
                fields.put(field.getKey(), field.getValue().asText());
              }
            });
    return new Token(value, fields, renewAt(body.path("expires_in")));
  }

  private Instant renewAt(JsonNode expiresIn) {
    if (!expiresIn.canConvertToLong() && !expiresIn.isTextual()) {
      return null;
    }
    long seconds = expiresIn.asLong(-1);
    if (seconds < 0) {
      return null;
    }
    Duration life = Duration.ofSeconds(seconds);
    // a short-lived token is renewed half-way, not a margin before an end it may already be past
    Duration keep =
        life.compareTo(margin.multipliedBy(2)) > 0 ? life.minus(margin) : life.dividedBy(2);
    return clock.instant().plus(keep);
  }

  /** {@code oauth <status> <error>: <description>}, both from the endpoint's JSON, kept short. */
  private static String oauthError(JsonNode body, int status) {
    String error = body == null ? "" : body.path("error").asText("");
    String description = body == null ? "" : body.path("error_description").asText("");
    String text = "oauth " + status + (error.isEmpty() ? "" : " " + error);
    if (!description.isEmpty()) {
      text += ": " + HttpOutcomes.excerpt(description, 200);
    }
    return text;
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }
}
