package dev.switchboard.demo.genesys;

import io.javalin.websocket.WsContext;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * The Notification API's channels: creation under the 20-per-client limit, subscriptions under the
 * 1,000-topic limit, and expiry. This object's lock guards every channel, for {@link
 * ChannelSockets} too; its timer thread runs expiries, heartbeats and delayed closes.
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

  final ScheduledExecutorService timers =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("fake-genesys-timer").unstarted(r));
  // creation order: the 20-channel limit removes the oldest first
  private final Map<String, Channel> channels = new LinkedHashMap<>();
  private final AtomicInteger created = new AtomicInteger();
  private volatile Duration lifetime = Duration.ofHours(24);

  void lifetime(Duration lifetime) {
    this.lifetime = lifetime;
  }

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
      ChannelSockets.close(displaced, "channel removed: too many channels");
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
  static String invalid(List<String> topics) {
    for (String topic : topics) {
      if (!KNOWN_TOPIC.matcher(topic).matches()) {
        return "Topic " + topic + " is not a valid topic.";
      }
    }
    return null;
  }

  /** The live channel {@code channelId}, or null; the caller holds this object's lock. */
  Channel get(String channelId) {
    return channels.get(channelId);
  }

  /** Every live channel, oldest first; the caller holds this object's lock. */
  Collection<Channel> all() {
    return channels.values();
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
      ChannelSockets.close(socket, "channel expired");
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

  private static String newChannelId() {
    return "streaming-0-" + UUID.randomUUID().toString().replace("-", "").substring(0, 26);
  }

  int created() {
    return created.get();
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
