package dev.switchboard.pull.genesys;

import dev.switchboard.pull.PullStatus;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One channel's socket, and what is known of its health: when it last heard anything, whether
 * Genesys announced its end, whether it closed. The listener hands complete messages to the reader
 * thread; whether and why it should be replaced is decided here, the replacing by {@link
 * NotificationSource}.
 */
final class ChannelSocket implements WebSocket.Listener {
  // one logger for all a source says, whichever of its parts says it
  private static final Logger LOG = LoggerFactory.getLogger(NotificationSource.class);
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);

  final PlatformApi.Channel channel;
  final int topics;
  final Instant created;
  private final String source;
  private final Executor reader;
  private final BiConsumer<ChannelSocket, String> received;
  private final Runnable lookAfter;
  private final BooleanSupplier closed;
  private volatile WebSocket socket;
  volatile Instant connectedSince;
  volatile Instant lastMessage;
  private volatile Instant lastPing = Instant.MIN;
  private volatile boolean closing;
  private volatile boolean gone;
  private volatile boolean retired;
  private final StringBuilder partial = new StringBuilder();

  /**
   * @param received stores a complete message (on the reader; the socket waits for it)
   * @param lookAfter asks the source to look after its channels now (this socket closed)
   */
  ChannelSocket(
      String source,
      PlatformApi.Channel channel,
      int topics,
      Instant created,
      Executor reader,
      BiConsumer<ChannelSocket, String> received,
      Runnable lookAfter,
      BooleanSupplier closed) {
    this.source = source;
    this.channel = channel;
    this.topics = topics;
    this.created = created;
    this.reader = reader;
    this.received = received;
    this.lookAfter = lookAfter;
    this.closed = closed;
  }

  /** Opens the socket; the quiet is counted from when it is open. */
  void connect(HttpClient http, Clock clock) throws PlatformApi.Refused {
    try {
      socket =
          http.newWebSocketBuilder()
              .connectTimeout(CONNECT_TIMEOUT)
              .buildAsync(channel.connectUri(), this)
              .get(CONNECT_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PlatformApi.Refused("interrupted while connecting", 0, null);
    } catch (Exception e) {
      throw new PlatformApi.Refused(
          "cannot open the notification socket of channel "
              + channel.id()
              + ": "
              + e.getClass().getSimpleName(),
          0,
          null);
    }
    connectedSince = clock.instant();
    lastMessage = connectedSince;
  }

  /** Anything arrived, a heartbeat included. */
  void heard(Instant now) {
    lastMessage = now;
  }

  /** Genesys announced {@code v2.system.socket_closing}. */
  void closing() {
    closing = true;
  }

  boolean lost(Instant now, Duration deadAfter) {
    return gone
        || (lastMessage != null && Duration.between(lastMessage, now).compareTo(deadAfter) > 0);
  }

  boolean replaceWanted(Instant now, Duration deadAfter, Duration rotateAfter) {
    return closing
        || lost(now, deadAfter)
        || Duration.between(created, now).compareTo(rotateAfter) >= 0
        || !now.isBefore(channel.expires().minus(expiryMargin()));
  }

  /** Replaced this long before Genesys would close it: five minutes, or a fifth of its life. */
  Duration expiryMargin() {
    Duration life = Duration.between(created, channel.expires());
    Duration fifth = life.dividedBy(5);
    return fifth.compareTo(Duration.ofMinutes(5)) < 0 ? fifth : Duration.ofMinutes(5);
  }

  String why(Instant now, Duration deadAfter, Duration rotateAfter) {
    if (gone) {
      return "its socket closed";
    }
    if (closing) {
      return "Genesys announced socket_closing";
    }
    if (lost(now, deadAfter)) {
      return "nothing heard for " + deadAfter.toSeconds() + " s";
    }
    return "rotated before it expires";
  }

  /** As the status shows it: not connected once lost. */
  PullStatus.ChannelStatus status(Instant now, Duration deadAfter) {
    return new PullStatus.ChannelStatus(
        channel.id(), topics, lost(now, deadAfter) ? null : connectedSince, channel.expires());
  }

  Duration quietFor(Instant now) {
    return lastMessage == null ? Duration.ZERO : Duration.between(lastMessage, now);
  }

  boolean pingedBefore(Instant now, Duration quietAfter) {
    return Duration.between(lastPing, now).compareTo(quietAfter) > 0;
  }

  void ping(Instant now) {
    lastPing = now;
    WebSocket s = socket;
    if (s != null && !gone) {
      s.sendText("{\"message\":\"ping\"}", true);
    }
  }

  /** Closed by us: replaced, or the source stops. Not a gap. */
  void retire() {
    retired = true;
    WebSocket s = socket;
    if (s != null) {
      s.sendClose(WebSocket.NORMAL_CLOSURE, "replaced").exceptionally(e -> null);
      s.abort();
    }
  }

  @Override
  public void onOpen(WebSocket webSocket) {
    webSocket.request(Ingester.WINDOW);
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (!last) {
      webSocket.request(1);
      return null;
    }
    String text = partial.toString();
    partial.setLength(0);
    try {
      // stored on a thread of its own; the socket is asked for one more message once it is,
      // so that at most WINDOW are received and not yet stored
      reader.execute(
          () -> {
            try {
              if (!closed.getAsBoolean()) {
                received.accept(this, text);
              }
            } finally {
              if (!gone) {
                webSocket.request(1);
              }
            }
          });
    } catch (RejectedExecutionException stopping) {
      // the source is closing
    }
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    lostSocket("closed by Genesys (" + statusCode + ")");
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    lostSocket("failed: " + error.getClass().getSimpleName());
  }

  private void lostSocket(String why) {
    gone = true;
    if (!retired && !closed.getAsBoolean()) {
      LOG.info(
          "genesys-notifications source {}: socket of channel {} {}", source, channel.id(), why);
      lookAfter.run();
    }
  }
}
