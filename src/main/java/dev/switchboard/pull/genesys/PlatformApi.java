package dev.switchboard.pull.genesys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.PullConfig;
import dev.switchboard.destination.http.HttpOutcomes;
import dev.switchboard.destination.http.HttpTransport;
import dev.switchboard.destination.http.OAuthClientCredentials;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Genesys Cloud Platform API calls a notifications source makes (docs/sources.md, "Genesys
 * Cloud notifications"): a client-credentials token (kept until a minute before it expires, fetched
 * again once on a 401), channels, subscriptions and the Analytics conversation-details query.
 *
 * <p>Every refusal becomes a {@link Refused} whose message says what is wrong in an admin's words
 * (bad client, missing permission, unknown topic, too many topics), with Genesys's {@code code} but
 * never its free text, a token or a body; a 429 carries its {@code Retry-After}.
 */
final class PlatformApi implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TOKEN_MARGIN = Duration.ofMinutes(1);

  /**
   * The API refused a call, or could not be reached (status 0); {@code retryAfter} when it asked to
   * wait; {@code topic} when a 400 named one of the topics sent.
   */
  static final class Refused extends Exception {
    final int status;
    final Duration retryAfter;
    final String topic;

    Refused(String message, int status, Duration retryAfter) {
      this(message, status, retryAfter, null);
    }

    Refused(String message, int status, Duration retryAfter, String topic) {
      super(message);
      this.status = status;
      this.retryAfter = retryAfter;
      this.topic = topic;
    }
  }

  /** A channel as created: where to connect, and until when it lives. */
  record Channel(String id, URI connectUri, Instant expires) {}

  /** One page of the conversation-details query. */
  record Page(List<JsonNode> conversations, long totalHits) {}

  private final PullConfig config;
  private final Clock clock;
  private final HttpTransport transport;
  private final OAuthClientCredentials tokens;

  PlatformApi(PullConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
    this.transport =
        new HttpTransport(Duration.ofSeconds(5), Duration.ofSeconds(30), 4, 4 * 1024 * 1024);
    this.tokens =
        new OAuthClientCredentials(
            transport,
            URI.create(config.loginUrl() + "/oauth/token"),
            config.clientId(),
            config.clientSecret(),
            OAuthClientCredentials.ClientAuth.BASIC,
            clock,
            TOKEN_MARGIN);
  }

  /** A token from the login host, kept for the calls that follow (what a check tries first). */
  void authenticate() throws Refused {
    token();
  }

  private OAuthClientCredentials.Token token() throws Refused {
    try {
      return tokens.token();
    } catch (OAuthClientCredentials.Refused refused) {
      throw new Refused(
          "Genesys refused the OAuth client (HTTP "
              + refused.status()
              + "): check client_id and client_secret, and that the client has the"
              + " client-credentials grant in this region",
          refused.status(),
          null);
    } catch (IOException e) {
      throw new Refused("cannot reach " + config.loginUrl().getHost() + ": " + e, 0, null);
    }
  }

  /** {@code POST /api/v2/notifications/channels}. */
  Channel createChannel() throws Refused {
    JsonNode answer =
        call("POST", "/api/v2/notifications/channels", null, "create a channel", List.of());
    String id = answer.path("id").asText("");
    String connect = answer.path("connectUri").asText("");
    if (id.isEmpty() || connect.isEmpty()) {
      throw new Refused("the channel Genesys created has no id or connectUri", 200, null);
    }
    Instant expires;
    try {
      expires = Instant.parse(answer.path("expires").asText());
    } catch (RuntimeException e) {
      expires = clock.instant().plus(Duration.ofHours(24)); // the documented lifetime
    }
    return new Channel(id, URI.create(connect), expires);
  }

  /** {@code PUT …/channels/{id}/subscriptions}: the channel's topics become exactly these. */
  void subscribe(String channelId, List<String> topics) throws Refused {
    List<Map<String, String>> body = new ArrayList<>();
    topics.forEach(t -> body.add(Map.of("id", t)));
    call(
        "PUT",
        "/api/v2/notifications/channels/" + channelId + "/subscriptions",
        body,
        "subscribe to " + topics.size() + " topic(s)",
        topics);
  }

  /**
   * {@code POST /api/v2/analytics/conversations/details/query}: conversations that started in
   * [from, to), oldest first, one page (numbered from 1).
   */
  Page conversations(Instant from, Instant to, int pageNumber, int pageSize) throws Refused {
    Map<String, Object> query =
        Map.of(
            "interval",
            from + "/" + to,
            "order",
            "asc",
            "orderBy",
            "conversationStart",
            "paging",
            Map.of("pageSize", pageSize, "pageNumber", pageNumber));
    JsonNode answer =
        call(
            "POST",
            "/api/v2/analytics/conversations/details/query",
            query,
            "query conversation details",
            List.of());
    List<JsonNode> conversations = new ArrayList<>();
    answer.path("conversations").forEach(conversations::add);
    return new Page(conversations, answer.path("totalHits").asLong(conversations.size()));
  }

  /**
   * One call, with one new token after a 401. {@code topics}: those a 400 may be about; the first
   * one Genesys's answer names is named in the refusal (a topic is not a secret; the answer's own
   * text is never repeated).
   */
  private JsonNode call(String method, String path, Object body, String what, List<String> topics)
      throws Refused {
    byte[] bytes;
    try {
      bytes = body == null ? null : JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    for (int round = 0; ; round++) {
      OAuthClientCredentials.Token token = token();
      HttpTransport.Answer answer;
      try {
        answer =
            transport.exchange(
                method,
                URI.create(config.apiUrl() + path),
                Map.of(
                    "Authorization", "Bearer " + token.value(),
                    "Content-Type", "application/json",
                    "Accept", "application/json"),
                bytes);
      } catch (IOException e) {
        throw new Refused("cannot reach " + config.apiUrl().getHost() + ": " + e, 0, null);
      }
      int status = answer.status();
      if (status == 401 && round == 0) {
        tokens.forget(token); // expired or revoked: one new token, one more try
        continue;
      }
      if (status >= 200 && status < 300) {
        try {
          return answer.body() == null || answer.body().isBlank()
              ? JSON.createObjectNode()
              : JSON.readTree(answer.body());
        } catch (IOException e) {
          throw new Refused("Genesys answered " + what + " with something not JSON", status, null);
        }
      }
      if (status == 400) {
        for (String topic : topics) {
          if (answer.body() != null && answer.body().contains(topic)) {
            throw new Refused(
                "cannot "
                    + what
                    + ": Genesys does not accept the topic "
                    + topic
                    + " (unknown, misspelt, or not allowed for this client)",
                status,
                null,
                topic);
          }
        }
      }
      throw refusal(status, answer, what);
    }
  }

  private Refused refusal(int status, HttpTransport.Answer answer, String what) {
    String code = code(answer.body());
    Duration wait = HttpOutcomes.retryAfter(answer.headers(), clock.instant());
    String words =
        switch (status) {
          case 401 -> "the token was refused: check the OAuth client";
          case 403 ->
              "the OAuth client lacks a permission (its role needs "
                  + (what.startsWith("query")
                      ? "Analytics > Conversation Detail > View"
                      : "the notification topics' permissions")
                  + ")";
          case 404 -> "not found (a channel that expired, or a wrong api_url or region)";
          case 429 -> "rate limited by the Platform API";
          case 400 ->
              "Genesys refused the request (an unknown topic, or more than "
                  + dev.switchboard.config.PullConfig.TOPICS_PER_CHANNEL
                  + " topics on a channel)";
          default -> status >= 500 ? "Genesys had an error" : "refused";
        };
    return new Refused(
        "cannot " + what + ": HTTP " + status + (code.isEmpty() ? "" : " " + code) + ", " + words,
        status,
        wait);
  }

  /** Genesys's error code ({@code "code"} in its JSON error body), never its free text. */
  static String code(String body) {
    if (body == null) {
      return "";
    }
    try {
      String code = JSON.readTree(body.getBytes(StandardCharsets.UTF_8)).path("code").asText("");
      return code.length() > 80 ? "" : code;
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  @Override
  public void close() {
    transport.close();
  }
}
