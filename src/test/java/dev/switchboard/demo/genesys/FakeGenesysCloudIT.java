package dev.switchboard.demo.genesys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.GatewayFixture;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FakeGenesysCloudIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String QUEUE = "f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f";
  private static final String QUEUE_TOPIC = "v2.routing.queues." + QUEUE + ".conversations";

  private final HttpClient client = HttpClient.newHttpClient();
  private FakeGenesysCloud genesys;
  private String token;

  @BeforeEach
  void start() throws Exception {
    genesys = FakeGenesysCloud.start("client-id", "client-secret");
    token = token("client-id", "client-secret").body().get("access_token").asText();
  }

  @AfterEach
  void stop() {
    genesys.close();
    // not close(): it waits for every operation to end, and a test may leave a WebSocket open
    client.shutdownNow();
  }

  // --- token ---

  @Test
  void rightCredentialsGetABearerTokenThatOpensTheApi() throws Exception {
    genesys.tokenLifetime(Duration.ofMinutes(5));
    Answer answer = token("client-id", "client-secret");

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.body().get("token_type").asText()).isEqualTo("bearer");
    assertThat(answer.body().get("expires_in").asLong()).isEqualTo(300);
    assertThat(genesys.tokensIssued()).isEqualTo(2);
    assertThat(api("POST", "/api/v2/notifications/channels", "", bearer(answer)).status())
        .isEqualTo(200);
  }

  @Test
  void aWrongSecretOrGrantIsRefused() throws Exception {
    Answer wrongSecret = token("client-id", "nope");
    assertThat(wrongSecret.status()).isEqualTo(401);
    assertThat(wrongSecret.body().get("error").asText()).isEqualTo("invalid_client");

    HttpRequest wrongGrant =
        HttpRequest.newBuilder(genesys.baseUrl().resolve("/oauth/token"))
            .header("Authorization", basic("client-id", "client-secret"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("grant_type=password"))
            .build();
    assertThat(client.send(wrongGrant, HttpResponse.BodyHandlers.ofString()).statusCode())
        .isEqualTo(400);
    assertThat(genesys.tokensIssued()).isEqualTo(1);
  }

  @Test
  void anExpiredTokenGets401() throws Exception {
    genesys.tokenLifetime(Duration.ofSeconds(1));
    String shortLived = bearer(token("client-id", "client-secret"));
    assertThat(api("POST", "/api/v2/notifications/channels", "", shortLived).status())
        .isEqualTo(200);

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> api("POST", "/api/v2/notifications/channels", "", shortLived).status() == 401);
    assertThat(api("POST", "/api/v2/notifications/channels", "", token).status()).isEqualTo(200);
  }

  @Test
  void revokedOrMissingTokensGet401() throws Exception {
    assertThat(api("POST", "/api/v2/notifications/channels", "", null).status()).isEqualTo(401);
    genesys.revokeTokens();

    Answer answer = api("POST", "/api/v2/notifications/channels", "", token);

    assertThat(answer.status()).isEqualTo(401);
    assertThat(answer.body().get("code").asText()).isEqualTo("bad.credentials");
    assertThat(answer.body().get("status").asInt()).isEqualTo(401);
  }

  // --- channels, subscriptions, sockets ---

  @Test
  void aSubscribedSocketGetsHeartbeatsPongsAndOnlyItsTopics() throws Exception {
    genesys.heartbeatEvery(Duration.ofMillis(200));
    JsonNode channel = createChannel();
    JsonNode other = createChannel();
    String otherTopic = "v2.users.8b2f6a10-4c3d-4e5f-9a0b-1c2d3e4f5a6b.presence";

    Answer put = subscribe("PUT", channel, QUEUE_TOPIC);
    subscribe("PUT", other, otherTopic);
    Answer added = subscribe("POST", channel, "v2.detail.events.conversation.abc-1.acw");

    assertThat(put.status()).isEqualTo(200);
    assertThat(put.body().get("entities").get(0).get("id").asText()).isEqualTo(QUEUE_TOPIC);
    assertThat(added.body().get("entities")).hasSize(2);
    assertThat(api("GET", subscriptionsPath(channel), null, token).body().get("entities"))
        .hasSize(2);
    assertThat(genesys.topicsOf(channel.get("id").asText()))
        .containsExactly(QUEUE_TOPIC, "v2.detail.events.conversation.abc-1.acw");
    assertThat(channel.get("connectUri").asText())
        .isEqualTo(
            "ws://127.0.0.1:"
                + genesys.baseUrl().getPort()
                + "/channels/"
                + channel.get("id").asText());
    assertThat(Instant.parse(channel.get("expires").asText()))
        .isBetween(
            Instant.now().plus(Duration.ofHours(23)), Instant.now().plus(Duration.ofHours(25)));

    Socket socket = connect(channel);
    Socket otherSocket = connect(other);
    await().atMost(Duration.ofSeconds(5)).until(() -> socket.count("WebSocket Heartbeat") >= 2);
    socket.ws.sendText("{\"message\":\"ping\"}", true).join();
    await().atMost(Duration.ofSeconds(5)).until(() -> socket.count("pong") == 1);
    assertThat(genesys.pingsAnswered()).isEqualTo(1);

    assertThat(genesys.publish(QUEUE_TOPIC, Map.of("id", "one"))).isEqualTo(1);
    assertThat(genesys.publish("v2.users.nobody.conversations", Map.of("id", "two"))).isZero();

    JsonNode event =
        await()
            .atMost(Duration.ofSeconds(5))
            .until(() -> socket.event(QUEUE_TOPIC), e -> e != null);
    assertThat(event.get("version").asText()).isEqualTo("2");
    assertThat(event.get("eventBody").get("id").asText()).isEqualTo("one");
    assertThat(event.get("metadata").get("CorrelationId").asText()).isNotBlank();
    assertThat(otherSocket.event(QUEUE_TOPIC)).isNull();
    assertThat(genesys.connectedSockets()).isEqualTo(2);
    assertThat(genesys.socketsOpened()).isEqualTo(2);
  }

  @Test
  void aSubscribeMessageOnTheSocketAddsTopics() throws Exception {
    JsonNode channel = createChannel();
    Socket socket = connect(channel);

    socket
        .ws
        .sendText("{\"message\":\"subscribe\",\"topics\":[\"" + QUEUE_TOPIC + "\"]}", true)
        .join();

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> genesys.topicsOf(channel.get("id").asText()).contains(QUEUE_TOPIC));
    assertThat(genesys.publish(QUEUE_TOPIC, Map.of())).isEqualTo(1);
  }

  @Test
  void aSubscribeMessageMayNameAThousandTopics() throws Exception {
    JsonNode channel = createChannel();
    Socket socket = connect(channel);
    List<String> topics =
        IntStream.range(0, 1_000)
            .mapToObj(i -> "v2.routing.queues." + UUID.randomUUID() + ".conversations")
            .toList();

    socket
        .ws
        .sendText(JSON.writeValueAsString(Map.of("message", "subscribe", "topics", topics)), true)
        .join();

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> genesys.topicsOf(channel.get("id").asText()).size() == 1_000);
    assertThat(socket.closed).isNotDone();
  }

  @Test
  void moreThanAThousandTopicsOrAnUnknownTopicIsRefused() throws Exception {
    JsonNode channel = createChannel();
    String[] topics =
        IntStream.range(0, 1_001)
            .mapToObj(i -> "v2.routing.queues.q" + i + ".conversations")
            .toArray(String[]::new);

    Answer tooMany = subscribe("PUT", channel, topics);
    Answer unknown = subscribe("PUT", channel, QUEUE_TOPIC, "v2.made.up.topic");
    Answer thousand =
        subscribe("PUT", channel, List.of(topics).subList(0, 1_000).toArray(String[]::new));
    Answer oneMore = subscribe("POST", channel, QUEUE_TOPIC);

    assertThat(tooMany.status()).isEqualTo(400);
    assertThat(tooMany.body().get("code").asText()).isEqualTo("bad.request");
    assertThat(tooMany.body().get("message").asText()).contains("1000");
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.body().get("message").asText()).contains("v2.made.up.topic");
    assertThat(thousand.status()).isEqualTo(200);
    assertThat(oneMore.status()).isEqualTo(400);
    assertThat(genesys.topicsOf(channel.get("id").asText())).hasSize(1_000);
    assertThat(
            api("PUT", "/api/v2/notifications/channels/nope/subscriptions", "[]", token).status())
        .isEqualTo(404);
  }

  @Test
  void aSecondSocketOnAChannelClosesTheFirst() throws Exception {
    JsonNode channel = createChannel();
    subscribe("PUT", channel, QUEUE_TOPIC);
    Socket first = connect(channel);
    Socket second = connect(channel);

    Closed closed = first.closed.get(5, TimeUnit.SECONDS);

    assertThat(closed.code()).isEqualTo(1000);
    assertThat(genesys.publish(QUEUE_TOPIC, Map.of())).isEqualTo(1);
    await().atMost(Duration.ofSeconds(5)).until(() -> second.event(QUEUE_TOPIC) != null);
    assertThat(genesys.connectedSockets()).isEqualTo(1);
  }

  @Test
  void anExpiredChannelClosesItsSocketAndIsForgotten() throws Exception {
    genesys.channelLifetime(Duration.ofMillis(700));
    JsonNode channel = createChannel();
    Socket socket = connect(channel);

    Closed closed = socket.closed.get(5, TimeUnit.SECONDS);

    assertThat(closed).isEqualTo(new Closed(1000, "channel expired"));
    assertThat(genesys.channelIds()).isEmpty();
    assertThat(api("GET", subscriptionsPath(channel), null, token).status()).isEqualTo(404);
    assertThat(refusal(channel)).isEqualTo(404);
  }

  @Test
  void theTwentyFirstChannelReplacesTheOldestUnconnectedOne() throws Exception {
    List<JsonNode> channels = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      channels.add(createChannel());
    }
    Socket oldest = connect(channels.get(0));

    JsonNode newest = createChannel();

    assertThat(genesys.channelIds())
        .hasSize(20)
        .contains(channels.get(0).get("id").asText(), newest.get("id").asText())
        .doesNotContain(channels.get(1).get("id").asText());
    assertThat(genesys.connectedSockets()).isEqualTo(1);
    assertThat(oldest.closed).isNotDone();
    assertThat(genesys.channelsCreated()).isEqualTo(21);
  }

  @Test
  void whenAllTwentyAreConnectedTheOldestGoesWithItsSocket() throws Exception {
    List<Socket> sockets = new ArrayList<>();
    String oldest = null;
    for (int i = 0; i < 20; i++) {
      JsonNode channel = createChannel();
      oldest = oldest == null ? channel.get("id").asText() : oldest;
      sockets.add(connect(channel));
    }

    createChannel();

    assertThat(sockets.get(0).closed.get(5, TimeUnit.SECONDS).code()).isEqualTo(1000);
    assertThat(genesys.channelIds()).hasSize(20).doesNotContain(oldest);
  }

  @Test
  void closingSoonWarnsThenCloses() throws Exception {
    JsonNode channel = createChannel();
    Socket socket = connect(channel);

    genesys.closingSoon(Duration.ofMillis(300));

    JsonNode closing =
        await()
            .atMost(Duration.ofSeconds(5))
            .until(() -> socket.event("v2.system.socket_closing"), e -> e != null);
    assertThat(closing.get("eventBody").get("channelId").asText())
        .isEqualTo(channel.get("id").asText());
    assertThat(closing.get("eventBody").get("systemTopicType").asText())
        .isEqualTo("socket_closing");
    assertThat(socket.closed.get(5, TimeUnit.SECONDS).code()).isEqualTo(1000);
    assertThat(genesys.channelIds()).contains(channel.get("id").asText());
  }

  @Test
  void droppedSocketsCanReconnectToTheSameChannel() throws Exception {
    JsonNode channel = createChannel();
    subscribe("PUT", channel, QUEUE_TOPIC);
    Socket socket = connect(channel);

    genesys.dropSockets();

    Closed closed = socket.closed.get(5, TimeUnit.SECONDS);
    assertThat(closed.code()).isNotEqualTo(1000);
    await().atMost(Duration.ofSeconds(5)).until(() -> genesys.connectedSockets() == 0);
    Socket again = connect(channel);
    assertThat(genesys.publish(QUEUE_TOPIC, Map.of())).isEqualTo(1);
    await().atMost(Duration.ofSeconds(5)).until(() -> again.event(QUEUE_TOPIC) != null);
  }

  @Test
  void refusedConnectionsGet503UntilResumed() throws Exception {
    JsonNode channel = createChannel();
    genesys.refuseConnections(true);

    assertThat(refusal(channel)).isEqualTo(503);

    genesys.refuseConnections(false);
    connect(channel);
    assertThat(genesys.connectedSockets()).isEqualTo(1);
    assertThat(refusal(URI.create(channel.get("connectUri").asText() + "x"))).isEqualTo(404);
  }

  // --- throttling and permissions ---

  @Test
  void throttledCallsGet429WithRetryAfterThenNormalAnswers() throws Exception {
    genesys.throttleNext(2, 7);

    HttpResponse<String> first = raw("POST", "/api/v2/notifications/channels", "", token);
    Answer second =
        api("POST", "/api/v2/analytics/conversations/details/query", query(1, 100), token);
    Answer third = api("POST", "/api/v2/notifications/channels", "", token);

    assertThat(first.statusCode()).isEqualTo(429);
    assertThat(first.headers().firstValue("Retry-After")).contains("7");
    JsonNode body = JSON.readTree(first.body());
    assertThat(body.get("code").asText()).isEqualTo("too.many.requests.retry.after");
    assertThat(body.get("status").asInt()).isEqualTo(429);
    assertThat(body.has("contextId")).isTrue();
    assertThat(body.get("details").isArray()).isTrue();
    assertThat(second.status()).isEqualTo(429);
    assertThat(third.status()).isEqualTo(200);
    assertThat(token("client-id", "client-secret").status()).isEqualTo(200);
  }

  @Test
  void deniedPermissionsGet403() throws Exception {
    genesys.deny("analytics");
    Answer analytics =
        api("POST", "/api/v2/analytics/conversations/details/query", query(1, 10), token);
    assertThat(analytics.status()).isEqualTo(403);
    assertThat(analytics.body().get("code").asText()).isEqualTo("missing.any.permissions");
    assertThat(api("POST", "/api/v2/notifications/channels", "", token).status()).isEqualTo(200);

    genesys.deny("notifications");
    assertThat(api("POST", "/api/v2/notifications/channels", "", token).status()).isEqualTo(403);
  }

  // --- conversations ---

  @Test
  void aConversationIsPublishedShapedLikeTheSample() throws Exception {
    JsonNode channel = createChannel();
    subscribe("PUT", channel, QUEUE_TOPIC);
    Socket socket = connect(channel);
    Instant start = Instant.parse("2026-04-14T10:09:20.118Z");
    Instant end = Instant.parse("2026-04-14T10:15:31.842Z");

    FakeGenesysCloud.Published published = genesys.conversation(QUEUE, start, end, "wrap-1");

    assertThat(published.sockets()).isEqualTo(1);
    JsonNode event =
        await()
            .atMost(Duration.ofSeconds(5))
            .until(() -> socket.event(QUEUE_TOPIC), e -> e != null);
    JsonNode sample = sample("websocket-queue-conversation.json");
    assertThat(shape(event)).isEqualTo(shape(sample));
    JsonNode body = event.get("eventBody");
    assertThat(body.get("id").asText()).isEqualTo(published.conversationId());
    assertThat(body)
        .isEqualTo(
            JSON.readTree(
                JSON.writeValueAsString(genesys.conversationEvent(published.conversationId()))));
    JsonNode agent = body.get("participants").get(1);
    assertThat(agent.get("queueId").asText()).isEqualTo(QUEUE);
    assertThat(agent.get("wrapup").get("code").asText()).isEqualTo("wrap-1");
    assertThat(body.get("participants").get(0).get("connectedTime").asText())
        .isEqualTo("2026-04-14T10:09:20.118Z");
    assertThat(agent.get("wrapup").get("endTime").asText()).isEqualTo("2026-04-14T10:15:31.842Z");

    Answer found =
        api("POST", "/api/v2/analytics/conversations/details/query", query(1, 100), token);
    JsonNode record = found.body().get("conversations").get(0);
    assertThat(shape(record)).isEqualTo(shape(sample("analytics-conversation-details.json")));
    assertThat(record.get("conversationId").asText()).isEqualTo(published.conversationId());
    assertThat(record.get("conversationStart").asText()).isEqualTo("2026-04-14T10:09:20.118Z");
    assertThat(record.get("conversationEnd").asText()).isEqualTo("2026-04-14T10:15:31.842Z");
    JsonNode wrapup =
        record.get("participants").get(1).get("sessions").get(0).get("segments").get(1);
    assertThat(wrapup.get("wrapUpCode").asText()).isEqualTo("wrap-1");
    assertThat(wrapup.get("queueId").asText()).isEqualTo(QUEUE);
    assertThat(wrapup.get("segmentStart").asText()).isEqualTo(agent.get("startAcwTime").asText());
  }

  @Test
  void theAnalyticsQueryPagesConversationsByStartWithinTheInterval() throws Exception {
    Instant from = Instant.parse("2026-04-14T10:00:00Z");
    for (int i = 0; i < 250; i++) {
      Instant start = from.plusSeconds(10L * (249 - i)); // stored out of order
      genesys.conversation(QUEUE, start, start.plusSeconds(60), "wrap");
    }
    genesys.conversation(QUEUE, from.minusMillis(1), from.plusSeconds(30), "wrap"); // before
    genesys.conversation(QUEUE, from.plusSeconds(3600), from.plusSeconds(3700), "wrap"); // at end

    List<String> starts = new ArrayList<>();
    for (int page = 1; page <= 3; page++) {
      Answer answer =
          api("POST", "/api/v2/analytics/conversations/details/query", query(page, 100), token);
      assertThat(answer.body().get("totalHits").asInt()).isEqualTo(250);
      answer
          .body()
          .get("conversations")
          .forEach(c -> starts.add(c.get("conversationStart").asText()));
    }
    Answer empty =
        api("POST", "/api/v2/analytics/conversations/details/query", query(4, 100), token);

    assertThat(starts).hasSize(250).isSorted().doesNotHaveDuplicates();
    assertThat(starts.getFirst()).isEqualTo("2026-04-14T10:00:00.000Z");
    assertThat(empty.body().has("conversations")).isFalse();
    assertThat(empty.body().get("totalHits").asInt()).isEqualTo(250);
    assertThat(
            api("POST", "/api/v2/analytics/conversations/details/query", query(1, 101), token)
                .status())
        .isEqualTo(400);
    assertThat(genesys.analyticsQueries()).isEqualTo(5);
  }

  // --- a small client ---

  record Answer(int status, JsonNode body) {}

  record Closed(int code, String reason) {}

  /** A client socket recording what it receives. */
  static final class Socket implements WebSocket.Listener {
    final List<JsonNode> received = new CopyOnWriteArrayList<>();
    final CompletableFuture<Closed> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    WebSocket ws;

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        try {
          received.add(JSON.readTree(partial.toString()));
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      closed.complete(new Closed(statusCode, reason));
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      closed.complete(new Closed(1006, String.valueOf(error)));
    }

    long count(String metadataMessage) {
      return received.stream()
          .filter(m -> m.path("topicName").asText().equals("channel.metadata"))
          .filter(m -> m.path("eventBody").path("message").asText().equals(metadataMessage))
          .count();
    }

    JsonNode event(String topic) {
      return received.stream()
          .filter(m -> m.path("topicName").asText().equals(topic))
          .findFirst()
          .orElse(null);
    }
  }

  /** Opens a socket on the channel; returns once the fake counts it as connected. */
  private Socket connect(JsonNode channel) {
    int opened = genesys.socketsOpened();
    Socket socket = new Socket();
    socket.ws =
        client
            .newWebSocketBuilder()
            .buildAsync(URI.create(channel.get("connectUri").asText()), socket)
            .orTimeout(5, TimeUnit.SECONDS)
            .join();
    await().atMost(Duration.ofSeconds(5)).until(() -> genesys.socketsOpened() > opened);
    return socket;
  }

  private int refusal(JsonNode channel) {
    return refusal(URI.create(channel.get("connectUri").asText()));
  }

  private int refusal(URI uri) {
    Throwable refused =
        catchThrowable(
            () ->
                client
                    .newWebSocketBuilder()
                    .buildAsync(uri, new Socket())
                    .orTimeout(5, TimeUnit.SECONDS)
                    .join());
    assertThat(refused).hasCauseInstanceOf(WebSocketHandshakeException.class);
    return ((WebSocketHandshakeException) refused.getCause()).getResponse().statusCode();
  }

  private JsonNode createChannel() throws Exception {
    Answer answer = api("POST", "/api/v2/notifications/channels", "", token);
    assertThat(answer.status()).isEqualTo(200);
    return answer.body();
  }

  private Answer subscribe(String method, JsonNode channel, String... topics) throws Exception {
    List<Map<String, String>> body = new ArrayList<>();
    for (String topic : topics) {
      body.add(Map.of("id", topic));
    }
    return api(method, subscriptionsPath(channel), JSON.writeValueAsString(body), token);
  }

  private static String subscriptionsPath(JsonNode channel) {
    return "/api/v2/notifications/channels/" + channel.get("id").asText() + "/subscriptions";
  }

  private static String query(int page, int pageSize) {
    return "{\"interval\":\"2026-04-14T10:00:00.000Z/2026-04-14T11:00:00.000Z\",\"order\":\"asc\","
        + "\"orderBy\":\"conversationStart\",\"segmentFilters\":[],\"paging\":{\"pageSize\":"
        + pageSize
        + ",\"pageNumber\":"
        + page
        + "}}";
  }

  private Answer token(String id, String secret) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(genesys.baseUrl().resolve("/oauth/token"))
            .header("Authorization", basic(id, secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
            .build();
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    return new Answer(response.statusCode(), JSON.readTree(response.body()));
  }

  private static String basic(String id, String secret) {
    return "Basic "
        + Base64.getEncoder().encodeToString((id + ":" + secret).getBytes(StandardCharsets.UTF_8));
  }

  private static String bearer(Answer tokenAnswer) {
    return tokenAnswer.body().get("access_token").asText();
  }

  private Answer api(String method, String path, String body, String bearer) throws Exception {
    HttpResponse<String> response = raw(method, path, body, bearer);
    return new Answer(
        response.statusCode(),
        response.body().isEmpty() ? JSON.nullNode() : JSON.readTree(response.body()));
  }

  private HttpResponse<String> raw(String method, String path, String body, String bearer)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(genesys.baseUrl().resolve(path))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (bearer != null) {
      request.header("Authorization", "Bearer " + bearer);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode sample(String name) throws IOException {
    return JSON.readTree(Files.readString(GatewayFixture.GENESYS_SAMPLES.resolve(name)));
  }

  /** The field names at every level, arrays element by element: what "the same shape" means. */
  private static Object shape(JsonNode node) {
    if (node.isObject()) {
      Map<String, Object> fields = new TreeMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        fields.put(field.getKey(), shape(field.getValue()));
      }
      return fields;
    }
    if (node.isArray()) {
      List<Object> elements = new ArrayList<>();
      node.forEach(e -> elements.add(shape(e)));
      return elements;
    }
    return node.getNodeType().toString();
  }
}
