package dev.switchboard.demo.genesys;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.javalin.Javalin;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.websocket.WsConnectContext;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local Genesys Cloud for the Notification API pull source (docs/connectors.md, "Genesys Cloud"):
 * the login host's {@code POST /oauth/token}, the Platform API's notification channels and
 * subscriptions, the channels' WebSockets, and the analytics conversation details query, on one
 * port, with knobs that reproduce what the real service does to a client: heartbeats, channel
 * expiry, the 20-channel and 1,000-topic limits, one socket per channel, {@code socket_closing}
 * before maintenance, abrupt drops, outages, token revocation, 429s and missing permissions. {@code
 * switchboard emulate} and {@code switchboard demo} serve it so a pull source can be watched
 * without a Genesys organisation; tests drive it the same way.
 *
 * <p>Like the real service it buffers nothing: an event published while no socket subscribes to its
 * topic is lost, which is what the source's analytics backfill exists for.
 *
 * <p>Shapes this fake guesses, because Genesys does not document them (a tolerant client relies
 * only on the status): the login host's 401 body {@code {"error":"invalid_client",...}}; the 403
 * code {@code missing.any.permissions}; the 400 bodies for too many or unknown topics ({@code
 * bad.request}); the reason and close code (1000) of a socket closed by a newer one, by channel
 * expiry or after {@code socket_closing}; the {@code socket_closing} values. A {@code subscribe}
 * message sent over the socket with a bad topic is ignored, as nothing says what Genesys answers.
 */
public final class FakeGenesysCloud implements AutoCloseable {
  private static final String CHANNEL_PATH = "/api/v2/notifications/channels";
  private static final String SUBSCRIPTIONS_PATH = CHANNEL_PATH + "/{id}/subscriptions";
  private static final String ANALYTICS_PATH = "/api/v2/analytics/conversations/details/query";

  private final Tokens tokens;
  private final Channels channels;
  private final Javalin http;
  private final Map<String, VoiceConversation> conversations = new ConcurrentHashMap<>();
  private final Set<String> denied = ConcurrentHashMap.newKeySet();
  private final AtomicInteger analyticsQueries = new AtomicInteger();
  private int throttledCalls; // guarded by this
  private int retryAfterSeconds; // guarded by this

  private FakeGenesysCloud(String clientId, String clientSecret) {
    this.tokens = new Tokens(clientId, clientSecret);
    this.channels = new Channels(clientId);
    this.http =
        Javalin.create(
            cfg -> {
              cfg.startup.showJavalinBanner = false;
              cfg.startup.showOldJavalinVersionWarning = false;
              cfg.concurrency.useVirtualThreads = true;
              register(cfg.routes);
            });
  }

  /**
   * Starts on 127.0.0.1 and {@code port} ({@code switchboard emulate} on a pulled source: the port
   * of the source's {@code api_url}), or a free port when 0.
   */
  public static FakeGenesysCloud start(int port, String clientId, String clientSecret) {
    FakeGenesysCloud fake = new FakeGenesysCloud(clientId, clientSecret);
    fake.http.start("127.0.0.1", port);
    return fake;
  }

  /** Starts on 127.0.0.1 and a free port. */
  public static FakeGenesysCloud start(String clientId, String clientSecret) {
    return start(0, clientId, clientSecret);
  }

  /**
   * {@code http://127.0.0.1:<port>}: both the login URL ({@code POST /oauth/token}) and the API URL
   * ({@code /api/v2/...}).
   */
  public URI baseUrl() {
    return URI.create("http://127.0.0.1:" + http.port());
  }

  // --- behaviour knobs ---

  /** How often each socket opened from now on gets a heartbeat; 30 s by default, as on Genesys. */
  public void heartbeatEvery(Duration every) {
    channels.heartbeatEvery(positive(every));
  }

  /**
   * How long channels created from now on live (24 h by default). At expiry the fake closes the
   * channel's socket (1000, "channel expired") and forgets the channel: later calls on it get 404.
   */
  public void channelLifetime(Duration lifetime) {
    channels.lifetime(positive(lifetime));
  }

  /** The lifetime ({@code expires_in}) of tokens issued from now on; 24 h by default. */
  public void tokenLifetime(Duration lifetime) {
    tokens.lifetime(positive(lifetime));
  }

  /** Every token issued so far gets 401 from now on. */
  public void revokeTokens() {
    tokens.revokeAll();
  }

  /**
   * The next {@code calls} Platform API calls (anything under {@code /api/v2}, not the token
   * endpoint) are answered 429 with {@code Retry-After: retryAfterSeconds} and Genesys's body.
   */
  public synchronized void throttleNext(int calls, int retryAfterSeconds) {
    this.throttledCalls = calls;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /**
   * Takes a permission from the client: {@code "notifications"} makes channel creation answer 403,
   * {@code "analytics"} the analytics query.
   */
  public void deny(String permission) {
    if (!permission.equals("notifications") && !permission.equals("analytics")) {
      throw new IllegalArgumentException("unknown permission: " + permission);
    }
    denied.add(permission);
  }

  /** Gives back a permission {@link #deny} took. */
  public void allow(String permission) {
    denied.remove(permission);
  }

  // --- traffic ---

  /**
   * Sends an envelope {@code {topicName, version: "2", eventBody, metadata: {CorrelationId}}} to
   * every connected socket whose channel subscribes to {@code topic}.
   *
   * @return how many sockets it went to; 0 means the event is lost, as on the real service
   */
  public int publish(String topic, Object eventBody) {
    return channels.publish(topic, Envelopes.event(topic, eventBody));
  }

  /** What {@link #conversation} did. */
  public record Published(String conversationId, int sockets, Map<String, Object> eventBody) {}

  /**
   * A finished voice conversation in {@code queueId} (customer and agent, random ids, the agent
   * wrapping up with {@code wrapupCode}): its analytics record is kept for the analytics query, and
   * its event is published on {@code v2.routing.queues.<queueId>.conversations}.
   */
  public Published conversation(String queueId, Instant start, Instant end, String wrapupCode) {
    VoiceConversation conversation = VoiceConversation.of(queueId, start, end, wrapupCode);
    conversations.put(conversation.id(), conversation);
    Map<String, Object> body = conversation.eventBody();
    int sockets = publish("v2.routing.queues." + queueId + ".conversations", body);
    return new Published(conversation.id(), sockets, body);
  }

  /** The queue-conversation event body the fake publishes for a stored conversation. */
  public Map<String, Object> conversationEvent(String conversationId) {
    return stored(conversationId).eventBody();
  }

  /** The analytics record of a stored conversation, as the analytics query answers it. */
  public Map<String, Object> analyticsRecord(String conversationId) {
    return stored(conversationId).analyticsRecord();
  }

  private VoiceConversation stored(String conversationId) {
    VoiceConversation conversation = conversations.get(conversationId);
    if (conversation == null) {
      throw new IllegalArgumentException("no such conversation: " + conversationId);
    }
    return conversation;
  }

  /**
   * Sends {@code v2.system.socket_closing} on every connected socket, then closes those sockets
   * (1000) after {@code after}. Their channels stay valid.
   */
  public void closingSoon(Duration after) {
    channels.closingSoon(after);
  }

  /**
   * Terminates every socket's connection without a close frame (the client sees 1006). Channels
   * stay valid until they expire, so a client may reconnect to the same {@code connectUri}.
   */
  public void dropSockets() {
    channels.dropSockets();
  }

  /**
   * Every socket open now goes silent without closing: no more heartbeats, pongs or events (a
   * connection a middlebox stopped forwarding). Sockets opened later are not affected.
   */
  public void silenceSockets() {
    channels.silence();
  }

  /** While true, new WebSocket connections are refused with 503 at the upgrade: an outage. */
  public void refuseConnections(boolean refuse) {
    channels.refuseConnections(refuse);
  }

  // --- what happened ---

  public int tokensIssued() {
    return tokens.issued();
  }

  public int channelsCreated() {
    return channels.created();
  }

  public int socketsOpened() {
    return channels.socketsOpened();
  }

  public int connectedSockets() {
    return channels.connectedSockets();
  }

  /** The channel's current subscriptions; empty for an unknown channel. */
  public List<String> topicsOf(String channelId) {
    return channels.topicsOf(channelId);
  }

  /** Live channels, oldest first. */
  public List<String> channelIds() {
    return channels.ids();
  }

  public int analyticsQueries() {
    return analyticsQueries.get();
  }

  public int pingsAnswered() {
    return channels.pingsAnswered();
  }

  @Override
  public void close() {
    channels.close();
    http.stop();
  }

  // --- HTTP and WebSocket routes ---

  private void register(RoutesConfig routes) {
    routes.exception(ApiError.class, (error, ctx) -> json(ctx, error.status, error.body()));
    routes.post("/oauth/token", this::token);
    routes.before("/api/v2/*", this::gate);
    routes.post(CHANNEL_PATH, this::createChannel);
    routes.get(SUBSCRIPTIONS_PATH, ctx -> subscriptions(ctx, null, false));
    routes.put(SUBSCRIPTIONS_PATH, ctx -> subscriptions(ctx, topicsIn(ctx), true));
    routes.post(SUBSCRIPTIONS_PATH, ctx -> subscriptions(ctx, topicsIn(ctx), false));
    routes.delete(SUBSCRIPTIONS_PATH, ctx -> subscriptions(ctx, List.of(), true));
    routes.post(ANALYTICS_PATH, this::analyticsQuery);
    routes.wsBeforeUpgrade("/channels/{id}", this::upgrade);
    routes.ws(
        "/channels/{id}",
        ws -> {
          ws.onConnect(this::connected);
          ws.onMessage(ctx -> channels.message(ctx.pathParam("id"), ctx, ctx.message()));
          ws.onClose(ctx -> channels.closed(ctx.pathParam("id"), ctx));
        });
  }

  private void token(Context ctx) {
    if (!tokens.authenticates(ctx.header("Authorization"))) {
      json(ctx, 401, Map.of("error", "invalid_client", "description", "client not found"));
    } else if (!"client_credentials".equals(ctx.formParam("grant_type"))) {
      json(
          ctx,
          400,
          Map.of("error", "unsupported_grant_type", "description", "grant type not supported"));
    } else {
      json(ctx, 200, tokens.issue());
    }
  }

  /** Throttling, then the bearer token, for every Platform API call. */
  private void gate(Context ctx) {
    Integer retryAfter = nextThrottle();
    if (retryAfter != null) {
      ctx.header("Retry-After", Integer.toString(retryAfter));
      ctx.header("ININ-Correlation-Id", UUID.randomUUID().toString());
      throw new ApiError(
          429,
          "too.many.requests.retry.after",
          "Rate limit exceeded the maximum. Retry the request in [" + retryAfter + "] seconds");
    }
    String client = tokens.clientOf(ctx.header("Authorization"));
    if (client == null) {
      throw new ApiError(401, "bad.credentials", "Invalid login credentials.");
    }
    ctx.attribute("clientId", client);
  }

  private synchronized Integer nextThrottle() {
    if (throttledCalls <= 0) {
      return null;
    }
    throttledCalls--;
    return retryAfterSeconds;
  }

  private void createChannel(Context ctx) {
    if (denied.contains("notifications")) {
      throw ApiError.forbidden("notification:channel:add");
    }
    Channel channel = channels.create(ctx.attribute("clientId"));
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("connectUri", "ws://127.0.0.1:" + http.port() + "/channels/" + channel.id);
    answer.put("id", channel.id);
    answer.put("expires", VoiceConversation.format(channel.expires));
    json(ctx, 200, answer);
  }

  private List<String> topicsIn(Context ctx) {
    try {
      List<Map<String, Object>> entries =
          Envelopes.JSON.readValue(ctx.body(), new TypeReference<List<Map<String, Object>>>() {});
      List<String> topics = new ArrayList<>();
      for (Map<String, Object> entry : entries) {
        if (!(entry.get("id") instanceof String topic)) {
          throw ApiError.badRequest("Each subscription needs a topic id.");
        }
        topics.add(topic);
      }
      return topics;
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest("The request body is not a list of topics.");
    }
  }

  /** GET ({@code topics} null), PUT ({@code replace}) or POST (add) on a channel's topics. */
  private void subscriptions(Context ctx, List<String> topics, boolean replace) {
    List<String> now =
        channels.subscriptions(ctx.pathParam("id"), ctx.attribute("clientId"), topics, replace);
    json(ctx, 200, Map.of("entities", now.stream().map(t -> Map.of("id", t)).toList()));
  }

  private void analyticsQuery(Context ctx) {
    if (denied.contains("analytics")) {
      throw ApiError.forbidden("analytics:conversationDetail:view");
    }
    analyticsQueries.incrementAndGet();
    json(ctx, 200, AnalyticsQuery.parse(Envelopes.JSON, ctx.body()).answer(conversations.values()));
  }

  private void upgrade(Context ctx) {
    if (channels.refusingConnections()) {
      throw new HttpResponseException(503, "Service Unavailable", Map.of());
    }
    if (!channels.exists(ctx.pathParam("id"))) {
      throw new HttpResponseException(404, "Not Found", Map.of());
    }
  }

  private void connected(WsConnectContext ctx) {
    ctx.session.setIdleTimeout(Duration.ZERO); // heartbeats keep it open, as on Genesys
    // a subscribe message naming 1,000 topics is larger than Jetty's 64 KiB default
    ctx.session.setMaxTextMessageSize(1 << 20);
    channels.connected(ctx.pathParam("id"), ctx);
  }

  private static void json(Context ctx, int status, Object body) {
    ctx.status(status).contentType("application/json").result(Envelopes.write(body));
  }

  private static Duration positive(Duration duration) {
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("must be positive: " + duration);
    }
    return duration;
  }
}
