package dev.switchboard.demo.genesys;

import io.javalin.Javalin;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
 * <p>It also takes write-back ({@link WriteBack}): a conversation's participant attributes,
 * callbacks, external contacts, with a knob that answers writes after the client gave up.
 *
 * <p>This class is the facade; {@link Tokens} owns the OAuth tokens, {@link Channels} the channels
 * and their subscriptions, {@link ChannelSockets} the channels' WebSockets, {@link WriteBack} and
 * {@link ExternalContactBook} the written records, and {@link Routes} the HTTP and WebSocket routes
 * with the throttling and permissions in front of the Platform API.
 *
 * <p>Shapes this fake guesses, because Genesys does not document them (a tolerant client relies
 * only on the status): the login host's 401 body {@code {"error":"invalid_client",...}}; the 403
 * code {@code missing.any.permissions}; the 400 bodies for too many or unknown topics ({@code
 * bad.request}); the reason and close code (1000) of a socket closed by a newer one, by channel
 * expiry or after {@code socket_closing}; the {@code socket_closing} values. A {@code subscribe}
 * message sent over the socket with a bad topic is ignored, as nothing says what Genesys answers.
 */
public final class FakeGenesysCloud implements AutoCloseable {
  private final Tokens tokens;
  private final Channels channels = new Channels();
  private final ChannelSockets sockets;
  private final Map<String, VoiceConversation> conversations = new ConcurrentHashMap<>();
  private final SlowWrites slowWrites = new SlowWrites();
  private final ExternalContactBook contacts = new ExternalContactBook(slowWrites);
  private final WriteBack writeBack = new WriteBack(conversations, slowWrites, contacts);
  private final Routes routes;
  private final Javalin http;

  private FakeGenesysCloud(String clientId, String clientSecret) {
    this.tokens = new Tokens(clientId, clientSecret);
    this.sockets = new ChannelSockets(channels, clientId);
    this.routes = new Routes(tokens, channels, sockets, conversations, writeBack, this::port);
    this.http =
        Javalin.create(
            cfg -> {
              cfg.startup.showJavalinBanner = false;
              cfg.startup.showOldJavalinVersionWarning = false;
              cfg.concurrency.useVirtualThreads = true;
              routes.register(cfg.routes);
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
    return URI.create("http://127.0.0.1:" + port());
  }

  private int port() {
    return http.port();
  }

  // --- behaviour knobs ---

  /** How often each socket opened from now on gets a heartbeat; 30 s by default, as on Genesys. */
  public void heartbeatEvery(Duration every) {
    sockets.heartbeatEvery(positive(every));
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
  public void throttleNext(int calls, int retryAfterSeconds) {
    routes.throttleNext(calls, retryAfterSeconds);
  }

  /**
   * Takes a permission from the client: {@code "notifications"} makes channel creation answer 403,
   * {@code "analytics"} the analytics query.
   */
  public void deny(String permission) {
    routes.deny(permission);
  }

  /** Gives back a permission {@link #deny} took. */
  public void allow(String permission) {
    routes.allow(permission);
  }

  /**
   * The next {@code writes} writes (attributes PATCH, callback create, contact create or replace)
   * are performed at once but answered only {@code by} later: a client whose timeout is shorter
   * sees no answer although the write happened.
   */
  public void answerWritesSlowly(int writes, Duration by) {
    slowWrites.answerSlowly(writes, by);
  }

  // --- traffic ---

  /**
   * Sends an envelope {@code {topicName, version: "2", eventBody, metadata: {CorrelationId}}} to
   * every connected socket whose channel subscribes to {@code topic}.
   *
   * @return how many sockets it went to; 0 means the event is lost, as on the real service
   */
  public int publish(String topic, Object eventBody) {
    return sockets.publish(topic, Envelopes.event(topic, eventBody));
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
    sockets.closingSoon(after);
  }

  /**
   * Terminates every socket's connection without a close frame (the client sees 1006). Channels
   * stay valid until they expire, so a client may reconnect to the same {@code connectUri}.
   */
  public void dropSockets() {
    sockets.drop();
  }

  /**
   * Every socket open now goes silent without closing: no more heartbeats, pongs or events (a
   * connection a middlebox stopped forwarding). Sockets opened later are not affected.
   */
  public void silenceSockets() {
    sockets.silence();
  }

  /** While true, new WebSocket connections are refused with 503 at the upgrade: an outage. */
  public void refuseConnections(boolean refuse) {
    sockets.refuseConnections(refuse);
  }

  // --- what happened ---

  public int tokensIssued() {
    return tokens.issued();
  }

  /** Every token the fake issued, revoked ones too (a test looks for them in logs). */
  public List<String> issuedTokens() {
    return tokens.everIssued();
  }

  public int channelsCreated() {
    return channels.created();
  }

  public int socketsOpened() {
    return sockets.opened();
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

  /** Every callback created, as its {@code CreateCallbackCommand} body arrived. */
  public List<Map<String, Object>> callbacks() {
    return writeBack.callbacks();
  }

  /** Every external contact stored now, as last written (with its {@code id}). */
  public List<Map<String, Object>> contacts() {
    return contacts.contacts();
  }

  /** Stores an external contact as if created earlier; returns its id. */
  public String addContact(Map<String, Object> contact) {
    return contacts.addContact(contact);
  }

  /** A participant's attributes now, on a stored or created conversation. */
  public Map<String, String> attributesOf(String conversationId, String participantId) {
    return writeBack.attributesOf(conversationId, participantId);
  }

  /** The customer participant's id of a conversation from {@link #conversation}. */
  public String customerOf(String conversationId) {
    return stored(conversationId).ids().customer();
  }

  public int analyticsQueries() {
    return routes.analyticsQueries();
  }

  public int pingsAnswered() {
    return sockets.pingsAnswered();
  }

  @Override
  public void close() {
    channels.close();
    http.stop();
  }

  private static Duration positive(Duration duration) {
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("must be positive: " + duration);
    }
    return duration;
  }
}
