package dev.switchboard.demo.genesys;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.websocket.WsConnectContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * The fake's HTTP and WebSocket routes, and what stands in front of the Platform API: 429s on
 * demand, the bearer token and the permissions a test took away. Handlers turn requests into calls
 * on {@link Tokens}, {@link Channels}, {@link ChannelSockets} and the stored conversations.
 */
final class Routes {
  private static final String CHANNEL_PATH = "/api/v2/notifications/channels";
  private static final String SUBSCRIPTIONS_PATH = CHANNEL_PATH + "/{id}/subscriptions";
  private static final String ANALYTICS_PATH = "/api/v2/analytics/conversations/details/query";

  private final Tokens tokens;
  private final Channels channels;
  private final ChannelSockets sockets;
  private final Map<String, VoiceConversation> conversations;
  private final IntSupplier port;
  private final WriteBack writeBack;
  private final Set<String> denied = ConcurrentHashMap.newKeySet();
  private final AtomicInteger analyticsQueries = new AtomicInteger();
  private int throttledCalls; // guarded by this
  private int retryAfterSeconds; // guarded by this

  /** {@code port} is the server's, for the channels' {@code connectUri}. */
  Routes(
      Tokens tokens,
      Channels channels,
      ChannelSockets sockets,
      Map<String, VoiceConversation> conversations,
      WriteBack writeBack,
      IntSupplier port) {
    this.writeBack = writeBack;
    this.tokens = tokens;
    this.channels = channels;
    this.sockets = sockets;
    this.conversations = conversations;
    this.port = port;
  }

  synchronized void throttleNext(int calls, int retryAfterSeconds) {
    this.throttledCalls = calls;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  void deny(String permission) {
    if (!permission.equals("notifications") && !permission.equals("analytics")) {
      throw new IllegalArgumentException("unknown permission: " + permission);
    }
    denied.add(permission);
  }

  void allow(String permission) {
    denied.remove(permission);
  }

  int analyticsQueries() {
    return analyticsQueries.get();
  }

  void register(RoutesConfig routes) {
    routes.exception(ApiError.class, (error, ctx) -> json(ctx, error.status, error.body()));
    routes.post("/oauth/token", this::token);
    routes.before("/api/v2/*", this::gate);
    routes.post(CHANNEL_PATH, this::createChannel);
    routes.get(SUBSCRIPTIONS_PATH, ctx -> subscriptions(ctx, null, false));
    routes.put(SUBSCRIPTIONS_PATH, ctx -> subscriptions(ctx, topicsIn(ctx), true));
    routes.post(SUBSCRIPTIONS_PATH, ctx -> subscriptions(ctx, topicsIn(ctx), false));
    routes.delete(SUBSCRIPTIONS_PATH, ctx -> subscriptions(ctx, List.of(), true));
    routes.post(ANALYTICS_PATH, this::analyticsQuery);
    writeBack.register(routes);
    routes.wsBeforeUpgrade("/channels/{id}", this::upgrade);
    routes.ws(
        "/channels/{id}",
        ws -> {
          ws.onConnect(this::connected);
          ws.onMessage(ctx -> sockets.message(ctx.pathParam("id"), ctx, ctx.message()));
          ws.onClose(ctx -> sockets.closed(ctx.pathParam("id"), ctx));
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
    answer.put("connectUri", "ws://127.0.0.1:" + port.getAsInt() + "/channels/" + channel.id);
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
    AnalyticsQuery query = AnalyticsQuery.parse(Envelopes.JSON, ctx.body());
    json(
        ctx,
        200,
        query.properties().isEmpty()
            ? query.answer(conversations.values())
            : writeBack.callbacksWith(query.properties(), query.from(), query.to()));
  }

  private void upgrade(Context ctx) {
    if (sockets.refusingConnections()) {
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
    sockets.connected(ctx.pathParam("id"), ctx);
  }

  private static void json(Context ctx, int status, Object body) {
    ctx.status(status).contentType("application/json").result(Envelopes.write(body));
  }
}
