package dev.switchboard.demo.genesys;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.websocket.WsContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The channels' WebSockets: one per channel, its heartbeats, pings and {@code subscribe} messages,
 * and what the fake's knobs do to the sockets (publish, {@code socket_closing}, drops, silence,
 * refusal). Channel state is guarded by the {@link Channels}' lock.
 */
final class ChannelSockets {
  private final Channels channels;
  private final String clientId;

  /** Sockets {@link #silence} muted. */
  private final Set<WsContext> silenced = Collections.newSetFromMap(new ConcurrentHashMap<>());

  private final AtomicInteger opened = new AtomicInteger();
  private final AtomicInteger pingsAnswered = new AtomicInteger();
  private volatile Duration heartbeatEvery = Duration.ofSeconds(30);
  private volatile boolean refusing;

  /** {@code clientId} is the fake's OAuth client, named in {@code socket_closing} events. */
  ChannelSockets(Channels channels, String clientId) {
    this.channels = channels;
    this.clientId = clientId;
  }

  void heartbeatEvery(Duration every) {
    heartbeatEvery = every;
  }

  void refuseConnections(boolean refuse) {
    refusing = refuse;
  }

  boolean refusingConnections() {
    return refusing;
  }

  /**
   * {@code socket} connected to channel {@code channelId}: it replaces the channel's previous
   * socket, which is closed, and gets heartbeats.
   */
  void connected(String channelId, WsContext socket) {
    WsContext previous = null;
    boolean known;
    synchronized (channels) {
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
            channels.timers.scheduleAtFixedRate(
                () -> heartbeat(channel, socket), every, every, TimeUnit.MILLISECONDS);
      }
    }
    if (!known) { // expired between the upgrade and now
      close(socket, "channel expired");
      return;
    }
    opened.incrementAndGet();
    if (previous != null) {
      close(previous, "another socket connected to this channel");
    }
  }

  private void heartbeat(Channel channel, WsContext socket) {
    synchronized (channels) {
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
        synchronized (channels) {
          send(socket, Envelopes.metadata("pong"));
        }
        pingsAnswered.incrementAndGet();
      }
      case "subscribe" -> {
        List<String> topics = new ArrayList<>();
        message.path("topics").forEach(t -> topics.add(t.asText()));
        if (Channels.invalid(topics) != null) {
          return;
        }
        synchronized (channels) {
          Channel channel = channels.get(channelId);
          if (channel != null
              && socket.equals(channel.socket)) { // contexts differ per call; equal per session
            Set<String> next = new HashSet<>(channel.topics);
            next.addAll(topics);
            if (next.size() <= Channels.MAX_TOPICS) {
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
    synchronized (channels) {
      Channel channel = channels.get(channelId);
      if (channel != null && socket.equals(channel.socket)) {
        channel.socket = null;
        channel.heartbeat.cancel(false);
        channel.heartbeat = null;
      }
    }
  }

  /** Sends {@code text} to every socket whose channel subscribes to {@code topic}; how many. */
  int publish(String topic, String text) {
    int sent = 0;
    synchronized (channels) {
      for (Channel channel : channels.all()) {
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

  /** {@code socket_closing} on every connected socket, which closes {@code after} later. */
  void closingSoon(Duration after) {
    List<WsContext> closing = new ArrayList<>();
    synchronized (channels) {
      for (Channel channel : channels.all()) {
        if (channel.socket != null) {
          send(channel.socket, Envelopes.socketClosing(channel.id, clientId));
          closing.add(channel.socket);
        }
      }
    }
    channels.timers.schedule(
        () -> closing.forEach(s -> close(s, "socket closing")),
        after.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** Every connected socket's connection ends without a close frame. */
  void drop() {
    List<WsContext> dropping = new ArrayList<>();
    synchronized (channels) {
      for (Channel channel : channels.all()) {
        if (channel.socket != null) {
          dropping.add(channel.socket);
        }
      }
    }
    dropping.forEach(s -> s.session.disconnect());
  }

  /** Every connected socket stops getting anything. */
  void silence() {
    synchronized (channels) {
      for (Channel channel : channels.all()) {
        if (channel.socket != null) {
          silenced.add(channel.socket);
        }
      }
    }
  }

  private void send(WsContext socket, String text) {
    if (socket.session.isOpen() && !silenced.contains(socket)) {
      socket.send(text);
    }
  }

  static void close(WsContext socket, String reason) {
    if (socket.session.isOpen()) {
      socket.closeSession(1000, reason);
    }
  }

  int opened() {
    return opened.get();
  }

  int pingsAnswered() {
    return pingsAnswered.get();
  }
}
