package dev.switchboard.demo.genesys;

import io.javalin.websocket.WsContext;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;

/** A notification channel; guarded by its {@link Channels}' lock. */
final class Channel {
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
