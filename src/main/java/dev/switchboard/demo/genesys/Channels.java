package dev.switchboard.demo.genesys;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.websocket.WsContext;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * The Notification API's channels and their sockets: creation under the 20-per-client limit,
 * subscriptions under the 1,000-topic limit, expiry, one socket per channel with its heartbeats,
 * and what the fake's knobs do to those sockets (publish, {@code socket_closing}, drops, silence,
 * refusal). One lock, this object's, guards every channel.
 */
final class Channels implements AutoCloseable {
  /** Channels one OAuth client may hold at once. */
  static final int MAX_CHANNELS = 20;

  /** Topics one channel may subscribe to. */
  static final int MAX_TOPICS = 1_000;

  private static final Pattern KNOWN_TOPIC =
      Pattern.compile(
          "v2\\.routing\\.queues\\.[A-Za-z0-9-]+\\.conversations"
              + "|v2\\.users\\.[A-Za-z0-9-]+\\.(conversations|presence)"
              + "|v2\\.detail\\.events\\.conversation\\.[A-Za-z0-9-]+"
              + "\\.(acw|customer\\.end|acd\\.end|user\\.end)");

  private final String clientId;
  private final ScheduledExecutorService timers =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("fake-genesys-timer").unstarted(r));
  // creation order: the 20-channel limit removes the oldest first
  private final Map<String, Channel> channels = new LinkedHashMap<>();

  /** Sockets {@link #silence} muted. */
  private final Set<WsContext> silenced = Collections.newSetFromMap(new ConcurrentHashMap<>());

  private final AtomicInteger created = new AtomicInteger();
  private final AtomicInteger socketsOpened = new AtomicInteger();
  private final AtomicInteger pingsAnswered = new AtomicInteger();
  private volatile Duration heartbeatEvery = Duration.ofSeconds(30);
  private volatile Duration lifetime = Duration.ofHours(24);
  private volatile boolean refusing;

  /** {@code clientId} is the fake's OAuth client, named in {@code socket_closing} events. */
  Channels(String clientId) {
    this.clientId = clientId;
  }

  void heartbeatEvery(Duration every) {
    heartbeatEvery = every;
  }

  void lifetime(Duration lifetime) {
    this.lifetime = lifetime;
  }

  void refuseConnections(boolean refuse) {
    refusing = refuse;
  }

  boolean refusingConnections() {
    return refusing;
  }

  // --- channels ---

  /**
   * A new channel for {@code owner}, expiring after the current lifetime; when the owner already
   * holds {@link #MAX_CHANNELS}, one of its old channels goes first.
   */
  Channel create(String owner) {
    Instant expires = Instant.now().plus(lifetime);
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
    created.incrementAndGet();
    return channel;
  }

  /**
   * Reads ({@code topics} null), replaces ({@code replace}) or adds to the topics of {@code
   * owner}'s channel {@code channelId}; returns its topics after. Unknown topics and more than
   * {@link #MAX_TOPICS} are 400, a channel that is not the owner's 404.
   */
  List<String> subscriptions(String channelId, String owner, List<String> topics, boolean replace) {
    String problem = topics == null ? null : invalid(topics);
    if (problem != null) {
      throw ApiError.badRequest(problem);
    }
    synchronized (this) {
      Channel channel = channels.get(channelId);
      if (channel == null || !channel.clientId.equals(owner)) {
        throw new ApiError(404, "not.found", "Channel " + channelId + " not found.");
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
      return List.copyOf(channel.topics);
    }
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

  synchronized boolean exists(String channelId) {
    return channels.containsKey(channelId);
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

  // --- sockets ---

  /**
   * {@code socket} connected to channel {@code channelId}: it replaces the channel's previous
   * socket, which is closed, and gets heartbeats.
   */
  void connected(String channelId, WsContext socket) {
    WsContext previous = null;
    boolean known;
    synchronized (this) {
      Channel channel = channels.get(channelId);
      known = channel != null;
      if (known) {
        previous = channel.socket;
        if (channel.heartbeat != null) {
          channel.heartbeat.cancel(false);
        }
        channel.socket = socket;
        long every = heartbeatEvery.toMillis();
        channel.heartbeat =
            timers.scheduleAtFixedRate(
                () -> heartbeat(channel, socket), every, every, TimeUnit.MILLISECONDS);
      }
    }
    if (!known) { // expired between the upgrade and now
      close(socket, "channel expired");
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
        send(socket, Envelopes.metadata("WebSocket Heartbeat"));
      }
    }
  }

  /** A text message from {@code socket} on channel {@code channelId}: a ping or a subscribe. */
  void message(String channelId, WsContext socket, String text) {
    JsonNode message;
    try {
      message = Envelopes.JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return; // Genesys's answer to garbage is undocumented; ignoring it is the tolerant guess
    }
    switch (message.path("message").asText("")) {
      case "ping" -> {
        synchronized (this) {
          send(socket, Envelopes.metadata("pong"));
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
          Channel channel = channels.get(channelId);
          if (channel != null
              && socket.equals(channel.socket)) { // contexts differ per call; equal per session
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

  /** {@code socket} on channel {@code channelId} closed; the channel stays. */
  void closed(String channelId, WsContext socket) {
    synchronized (this) {
      Channel channel = channels.get(channelId);
      if (channel != null && socket.equals(channel.socket)) {
        channel.socket = null;
        channel.heartbeat.cancel(false);
        channel.heartbeat = null;
      }
    }
  }

  /** Sends {@code text} to every socket whose channel subscribes to {@code topic}; how many. */
  synchronized int publish(String topic, String text) {
    int sent = 0;
    for (Channel channel : channels.values()) {
      if (channel.socket != null
          && channel.topics.contains(topic)
          && !silenced.contains(channel.socket)) {
        send(channel.socket, text);
        sent++;
      }
    }
    return sent;
  }

  void closingSoon(Duration after) {
    List<WsContext> closing = new ArrayList<>();
    synchronized (this) {
      for (Channel channel : channels.values()) {
        if (channel.socket != null) {
          send(channel.socket, Envelopes.socketClosing(channel.id, clientId));
          closing.add(channel.socket);
        }
      }
    }
    timers.schedule(
        () -> closing.forEach(s -> close(s, "socket closing")),
        after.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  void dropSockets() {
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

  synchronized void silence() {
    for (Channel channel : channels.values()) {
      if (channel.socket != null) {
        silenced.add(channel.socket);
      }
    }
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

  // --- what happened ---

  int created() {
    return created.get();
  }

  int socketsOpened() {
    return socketsOpened.get();
  }

  int pingsAnswered() {
    return pingsAnswered.get();
  }

  synchronized int connectedSockets() {
    return (int) channels.values().stream().filter(c -> c.socket != null).count();
  }

  synchronized List<String> topicsOf(String channelId) {
    Channel channel = channels.get(channelId);
    return channel == null ? List.of() : List.copyOf(channel.topics);
  }

  synchronized List<String> ids() {
    return List.copyOf(channels.keySet());
  }

  /** Stops every timer: heartbeats, expiries and pending closes. */
  @Override
  public void close() {
    timers.shutdownNow();
  }
}
