package dev.switchboard.demo.genesys;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.websocket.WsCloseContext;
import io.javalin.websocket.WsConnectContext;
import io.javalin.websocket.WsContext;
import io.javalin.websocket.WsMessageContext;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

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
  /** Channels one OAuth client may hold at once. */
  static final int MAX_CHANNELS = 20;

  /** Topics one channel may subscribe to. */
  static final int MAX_TOPICS = 1_000;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern KNOWN_TOPIC =
      Pattern.compile(
          "v2\\.routing\\.queues\\.[A-Za-z0-9-]+\\.conversations"
              + "|v2\\.users\\.[A-Za-z0-9-]+\\.(conversations|presence)"
              + "|v2\\.detail\\.events\\.conversation\\.[A-Za-z0-9-]+"
              + "\\.(acw|customer\\.end|acd\\.end|user\\.end)");
  private static final String CHANNEL_PATH = "/api/v2/notifications/channels";
  private static final String SUBSCRIPTIONS_PATH = CHANNEL_PATH + "/{id}/subscriptions";
  private static final String ANALYTICS_PATH = "/api/v2/analytics/conversations/details/query";

  /** An issued token: whose it is and until when it works. */
  private record Token(String clientId, Instant expires) {}

  /** A notification channel; guarded by the fake's lock. */
  private static final class Channel {
    final String id;
    final String clientId;
    final Instant expires;
    final Set<String> topics = new LinkedHashSet<>();
    WsContext socket;
    ScheduledFuture<?> heartbeat;
    ScheduledFuture<?> expiry;

    Channel(String id, String clientId, Instant expires) {
      this.id = id;
      this.clientId = clientId;
      this.expires = expires;
    }
  }

  private final String clientId;
  private final String clientSecret;
  private final Javalin http;
  private final ScheduledExecutorService timers =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("fake-genesys-timer").unstarted(r));
  private final Map<String, Token> tokens = new ConcurrentHashMap<>();
  // creation order: the 20-channel limit removes the oldest first
  private final Map<String, Channel> channels = new LinkedHashMap<>();
  private final Map<String, VoiceConversation> conversations = new ConcurrentHashMap<>();
  private final Set<String> denied = ConcurrentHashMap.newKeySet();
  private final AtomicInteger tokensIssued = new AtomicInteger();
  private final AtomicInteger channelsCreated = new AtomicInteger();
  private final AtomicInteger socketsOpened = new AtomicInteger();
  private final AtomicInteger analyticsQueries = new AtomicInteger();
  private final AtomicInteger pingsAnswered = new AtomicInteger();
  private volatile Duration heartbeatEvery = Duration.ofSeconds(30);
  private volatile Duration channelLifetime = Duration.ofHours(24);
  private volatile Duration tokenLifetime = Duration.ofHours(24);
  private volatile boolean refuseConnections;
  private int throttledCalls; // guarded by this
  private int retryAfterSeconds; // guarded by this

  private FakeGenesysCloud(String clientId, String clientSecret) {
    this.clientId = clientId;
    this.clientSecret = clientSecret;
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
    heartbeatEvery = positive(every);
  }

  /**
   * How long channels created from now on live (24 h by default). At expiry the fake closes the
   * channel's socket (1000, "channel expired") and forgets the channel: later calls on it get 404.
   */
  public void channelLifetime(Duration lifetime) {
    channelLifetime = positive(lifetime);
  }

  /** The lifetime ({@code expires_in}) of tokens issued from now on; 24 h by default. */
  public void tokenLifetime(Duration lifetime) {
    tokenLifetime = positive(lifetime);
  }

  /** Every token issued so far gets 401 from now on. */
  public void revokeTokens() {
    tokens.clear();
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
    Map<String, Object> envelope = new LinkedHashMap<>();
    envelope.put("topicName", topic);
    envelope.put("version", "2");
    envelope.put("eventBody", eventBody);
    envelope.put("metadata", Map.of("CorrelationId", UUID.randomUUID().toString()));
    String text = write(envelope);
    int sent = 0;
    synchronized (this) {
      for (Channel channel : channels.values()) {
        if (channel.socket != null
            && channel.topics.contains(topic)
            && !silenced.contains(channel.socket)) {
          send(channel.socket, text);
          sent++;
        }
      }
    }
    return sent;
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
    VoiceConversation conversation = conversations.get(conversationId);
    if (conversation == null) {
      throw new IllegalArgumentException("no such conversation: " + conversationId);
    }
    return conversation.eventBody();
  }

  /** The analytics record of a stored conversation, as the analytics query answers it. */
  public Map<String, Object> analyticsRecord(String conversationId) {
    VoiceConversation conversation = conversations.get(conversationId);
    if (conversation == null) {
      throw new IllegalArgumentException("no such conversation: " + conversationId);
    }
    return conversation.analyticsRecord();
  }

  /**
   * Sends {@code v2.system.socket_closing} on every connected socket, then closes those sockets
   * (1000) after {@code after}. Their channels stay valid.
   */
  public void closingSoon(Duration after) {
    List<WsContext> closing = new ArrayList<>();
    synchronized (this) {
      for (Channel channel : channels.values()) {
        if (channel.socket != null) {
          send(channel.socket, write(socketClosing(channel.id)));
          closing.add(channel.socket);
        }
      }
    }
    timers.schedule(
        () -> closing.forEach(s -> close(s, "socket closing")),
        after.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * Terminates every socket's connection without a close frame (the client sees 1006). Channels
   * stay valid until they expire, so a client may reconnect to the same {@code connectUri}.
   */
  public void dropSockets() {
    List<WsContext> dropping = new ArrayList<>();
    synchronized (this) {
      for (Channel channel : channels.values()) {
        if (channel.socket != null) {
          dropping.add(channel.socket);
        }
      }
    }
    dropping.forEach(s -> s.session.disconnect());
  }

  /**
   * Every socket open now goes silent without closing: no more heartbeats, pongs or events (a
   * connection a middlebox stopped forwarding). Sockets opened later are not affected.
   */
  public void silenceSockets() {
    synchronized (this) {
      for (Channel channel : channels.values()) {
        if (channel.socket != null) {
          silenced.add(channel.socket);
        }
      }
    }
  }

  /** Sockets {@link #silenceSockets} muted. */
  private final java.util.Set<WsContext> silenced =
      java.util.Collections.newSetFromMap(new java.util.concurrent.ConcurrentHashMap<>());

  /** While true, new WebSocket connections are refused with 503 at the upgrade: an outage. */
  public void refuseConnections(boolean refuse) {
    refuseConnections = refuse;
  }

  // --- what happened ---

  public int tokensIssued() {
    return tokensIssued.get();
  }

  public int channelsCreated() {
    return channelsCreated.get();
  }

  public int socketsOpened() {
    return socketsOpened.get();
  }

  public synchronized int connectedSockets() {
    return (int) channels.values().stream().filter(c -> c.socket != null).count();
  }

  /** The channel's current subscriptions; empty for an unknown channel. */
  public synchronized List<String> topicsOf(String channelId) {
    Channel channel = channels.get(channelId);
    return channel == null ? List.of() : List.copyOf(channel.topics);
  }

  /** Live channels, oldest first. */
  public synchronized List<String> channelIds() {
    return List.copyOf(channels.keySet());
  }

  public int analyticsQueries() {
    return analyticsQueries.get();
  }

  public int pingsAnswered() {
    return pingsAnswered.get();
  }

  @Override
  public void close() {
    timers.shutdownNow();
    http.stop();
  }

  // --- HTTP ---

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
          ws.onMessage(this::message);
          ws.onClose(this::closed);
        });
  }

  private void token(Context ctx) {
    String expected =
        "Basic "
            + Base64.getEncoder()
                .encodeToString((clientId + ":" + clientSecret).getBytes(StandardCharsets.UTF_8));
    if (!expected.equals(ctx.header("Authorization"))) {
      json(ctx, 401, Map.of("error", "invalid_client", "description", "client not found"));
    } else if (!"client_credentials".equals(ctx.formParam("grant_type"))) {
      json(
          ctx,
          400,
          Map.of("error", "unsupported_grant_type", "description", "grant type not supported"));
    } else {
      String token = UUID.randomUUID().toString().replace("-", "") + tokensIssued.incrementAndGet();
      Duration lifetime = tokenLifetime;
      tokens.put(token, new Token(clientId, Instant.now().plus(lifetime)));
      Map<String, Object> answer = new LinkedHashMap<>();
      answer.put("access_token", token);
      answer.put("token_type", "bearer");
      answer.put("expires_in", lifetime.toSeconds());
      json(ctx, 200, answer);
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
    String auth = ctx.header("Authorization");
    Token token =
        auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)
            ? tokens.get(auth.substring(7))
            : null;
    if (token == null || !Instant.now().isBefore(token.expires())) {
      throw new ApiError(401, "bad.credentials", "Invalid login credentials.");
    }
    ctx.attribute("clientId", token.clientId());
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
    String owner = ctx.attribute("clientId");
    Instant expires = Instant.now().plus(channelLifetime);
    Channel channel = new Channel(newChannelId(), owner, expires);
    WsContext displaced = null;
    synchronized (this) {
      List<Channel> owned =
          channels.values().stream().filter(c -> owner.equals(c.clientId)).toList();
      if (owned.size() >= MAX_CHANNELS) {
        // the oldest unconnected one goes; if every one is connected, the oldest anyway
        Channel oldest =
            owned.stream().filter(c -> c.socket == null).findFirst().orElse(owned.getFirst());
        displaced = forget(oldest);
      }
      channels.put(channel.id, channel);
      channel.expiry =
          timers.schedule(
              () -> expire(channel),
              Math.max(0, expires.toEpochMilli() - Instant.now().toEpochMilli()),
              TimeUnit.MILLISECONDS);
    }
    if (displaced != null) {
      close(displaced, "channel removed: too many channels");
    }
    channelsCreated.incrementAndGet();
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("connectUri", "ws://127.0.0.1:" + http.port() + "/channels/" + channel.id);
    answer.put("id", channel.id);
    answer.put("expires", VoiceConversation.format(expires));
    json(ctx, 200, answer);
  }

  private List<String> topicsIn(Context ctx) {
    try {
      List<Map<String, Object>> entries =
          JSON.readValue(ctx.body(), new TypeReference<List<Map<String, Object>>>() {});
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
    String problem = topics == null ? null : invalid(topics);
    if (problem != null) {
      throw ApiError.badRequest(problem);
    }
    List<Map<String, String>> entities;
    synchronized (this) {
      Channel channel = channels.get(ctx.pathParam("id"));
      if (channel == null || !channel.clientId.equals(ctx.attribute("clientId"))) {
        throw new ApiError(404, "not.found", "Channel " + ctx.pathParam("id") + " not found.");
      }
      if (topics != null) {
        Set<String> next = new LinkedHashSet<>(replace ? List.of() : channel.topics);
        next.addAll(topics);
        if (next.size() > MAX_TOPICS) {
          throw ApiError.badRequest(
              "A channel may subscribe to at most "
                  + MAX_TOPICS
                  + " topics; asked for "
                  + next.size()
                  + ".");
        }
        channel.topics.clear();
        channel.topics.addAll(next);
      }
      entities = channel.topics.stream().map(t -> Map.of("id", t)).toList();
    }
    json(ctx, 200, Map.of("entities", entities));
  }

  /** Null when every topic is one Genesys knows, else the message naming the first that is not. */
  private static String invalid(List<String> topics) {
    for (String topic : topics) {
      if (!KNOWN_TOPIC.matcher(topic).matches()) {
        return "Topic " + topic + " is not a valid topic.";
      }
    }
    return null;
  }

  private void analyticsQuery(Context ctx) {
    if (denied.contains("analytics")) {
      throw ApiError.forbidden("analytics:conversationDetail:view");
    }
    analyticsQueries.incrementAndGet();
    json(ctx, 200, AnalyticsQuery.parse(JSON, ctx.body()).answer(conversations.values()));
  }

  // --- WebSocket ---

  private void upgrade(Context ctx) {
    if (refuseConnections) {
      throw new HttpResponseException(503, "Service Unavailable", Map.of());
    }
    synchronized (this) {
      if (!channels.containsKey(ctx.pathParam("id"))) {
        throw new HttpResponseException(404, "Not Found", Map.of());
      }
    }
  }

  private void connected(WsConnectContext ctx) {
    ctx.session.setIdleTimeout(Duration.ZERO); // heartbeats keep it open, as on Genesys
    // a subscribe message naming 1,000 topics is larger than Jetty's 64 KiB default
    ctx.session.setMaxTextMessageSize(1 << 20);
    WsContext previous = null;
    boolean known;
    synchronized (this) {
      Channel channel = channels.get(ctx.pathParam("id"));
      known = channel != null;
      if (known) {
        previous = channel.socket;
        if (channel.heartbeat != null) {
          channel.heartbeat.cancel(false);
        }
        channel.socket = ctx;
        long every = heartbeatEvery.toMillis();
        channel.heartbeat =
            timers.scheduleAtFixedRate(
                () -> heartbeat(channel, ctx), every, every, TimeUnit.MILLISECONDS);
      }
    }
    if (!known) { // expired between the upgrade and now
      close(ctx, "channel expired");
      return;
    }
    socketsOpened.incrementAndGet();
    if (previous != null) {
      close(previous, "another socket connected to this channel");
    }
  }

  private void heartbeat(Channel channel, WsContext socket) {
    synchronized (this) {
      if (channel.socket == socket) {
        send(socket, metadata("WebSocket Heartbeat"));
      }
    }
  }

  private void message(WsMessageContext ctx) {
    JsonNode message;
    try {
      message = JSON.readTree(ctx.message());
    } catch (JsonProcessingException e) {
      return; // Genesys's answer to garbage is undocumented; ignoring it is the tolerant guess
    }
    switch (message.path("message").asText("")) {
      case "ping" -> {
        synchronized (this) {
          send(ctx, metadata("pong"));
        }
        pingsAnswered.incrementAndGet();
      }
      case "subscribe" -> {
        List<String> topics = new ArrayList<>();
        message.path("topics").forEach(t -> topics.add(t.asText()));
        if (invalid(topics) != null) {
          return;
        }
        synchronized (this) {
          Channel channel = channels.get(ctx.pathParam("id"));
          if (channel != null
              && ctx.equals(channel.socket)) { // contexts differ per call; equal per session
            Set<String> next = new HashSet<>(channel.topics);
            next.addAll(topics);
            if (next.size() <= MAX_TOPICS) {
              channel.topics.addAll(topics);
            }
          }
        }
      }
      default -> {}
    }
  }

  private void closed(WsCloseContext ctx) {
    synchronized (this) {
      Channel channel = channels.get(ctx.pathParam("id"));
      if (channel != null && ctx.equals(channel.socket)) {
        channel.socket = null;
        channel.heartbeat.cancel(false);
        channel.heartbeat = null;
      }
    }
  }

  private void expire(Channel channel) {
    WsContext socket;
    synchronized (this) {
      if (channels.get(channel.id) != channel) {
        return;
      }
      socket = forget(channel);
    }
    if (socket != null) {
      close(socket, "channel expired");
    }
  }

  /** Removes a channel and stops its timers; returns its socket for the caller to close. */
  private WsContext forget(Channel channel) {
    channels.remove(channel.id);
    if (channel.heartbeat != null) {
      channel.heartbeat.cancel(false);
    }
    if (channel.expiry != null) {
      channel.expiry.cancel(false);
    }
    WsContext socket = channel.socket;
    channel.socket = null;
    return socket;
  }

  // --- helpers ---

  private Map<String, Object> socketClosing(String channelId) {
    String correlation = UUID.randomUUID().toString();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("channelId", channelId);
    body.put("systemTopicType", "socket_closing");
    body.put("correlationId", correlation);
    body.put("organizationId", "0b7e4c12-5d3a-4f8e-9a61-2c7d8e9f0a11");
    body.put("userId", "3c5e7a9b-1d2f-4a6b-8c0d-2e4f6a8b0c1d");
    body.put("oauthClientId", clientId);
    body.put("reason", "maintenance");
    body.put("message", "This socket will close soon; open a new one.");
    body.put("data", Map.of());
    Map<String, Object> envelope = new LinkedHashMap<>();
    envelope.put("topicName", "v2.system.socket_closing");
    envelope.put("version", "2");
    envelope.put("eventBody", body);
    envelope.put("metadata", Map.of("CorrelationId", correlation));
    return envelope;
  }

  private static String metadata(String message) {
    return write(Map.of("topicName", "channel.metadata", "eventBody", Map.of("message", message)));
  }

  private void send(WsContext socket, String text) {
    if (socket.session.isOpen() && !silenced.contains(socket)) {
      socket.send(text);
    }
  }

  private static void close(WsContext socket, String reason) {
    if (socket.session.isOpen()) {
      socket.closeSession(1000, reason);
    }
  }

  private static String newChannelId() {
    return "streaming-0-" + UUID.randomUUID().toString().replace("-", "").substring(0, 26);
  }

  private static void json(Context ctx, int status, Object body) {
    ctx.status(status).contentType("application/json").result(write(body));
  }

  private static String write(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not serialisable as JSON", e);
    }
  }

  private static Duration positive(Duration duration) {
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("must be positive: " + duration);
    }
    return duration;
  }
}
