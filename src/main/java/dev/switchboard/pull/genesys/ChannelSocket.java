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
  private final Reading received;
  private final Clock clock;
  private final Coverage coverage;

  /** Messages received and not yet settled: at most {@link Ingester#WINDOW}. */
  private final java.util.concurrent.atomic.AtomicInteger pending =
      new java.util.concurrent.atomic.AtomicInteger();

  /** What reads one message: whether it is settled (stored, or not an event). */
  @FunctionalInterface
  interface Reading {
    boolean read(ChannelSocket from, String text);
  }

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
      Clock clock,
      Coverage coverage,
      Executor reader,
      Reading received,
      Runnable lookAfter,
      BooleanSupplier closed) {
    this.source = source;
    this.channel = channel;
    this.topics = topics;
    this.clock = clock;
    this.created = clock.instant();
    this.coverage = coverage;
    this.reader = reader;
    this.received = received;
    this.lookAfter = lookAfter;
    this.closed = closed;
  }

  void connect(HttpClient http) throws PlatformApi.Refused {
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
  /** Genesys announced {@code v2.system.socket_closing}. */
  void closing() {
    closing = true;
  }

  /**
   * Closed, or silent for {@code deadAfter} while it could have sent: a socket whose window is full
   * (every message it may send is still being stored: a slow store) is waiting on us, not dead.
   */
  boolean lost(Instant now, Duration deadAfter) {
    return gone
        || (pending.get() < Ingester.WINDOW
            && lastMessage != null
            && Duration.between(lastMessage, now).compareTo(deadAfter) > 0);
  }

  boolean gone() {
    return gone;
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
  /**
   * Closed by us: replaced, or the source stops. Not a gap: the close handshake lets what Genesys
   * already sent on it arrive first (the socket counts for the coverage until it is gone).
   */
  void retire() {
    retired = true;
    WebSocket s = socket;
    if (s != null) {
      s.sendClose(WebSocket.NORMAL_CLOSURE, "replaced").exceptionally(e -> null);
    }
  }

  /** Drops the connection at once (the source stops, or a retired socket did not close). */
  void abort() {
    retired = true;
    WebSocket s = socket;
    if (s != null) {
      s.abort();
    }
    gone = true;
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
    // registered here, on the listener's thread and in the socket's order, before anything else
    // can save the coverage past it
    Instant at = clock.instant();
    lastMessage = at;
    pending.incrementAndGet();
    long seq = coverage.arrived(at);
    try {
      // stored on a thread of its own; the socket is asked for one more message once it is,
      // so that at most WINDOW are received and not yet stored
      reader.execute(
          () -> {
            boolean settled = false;
            try {
              settled = !closed.getAsBoolean() && received.read(this, text);
            } finally {
              if (settled) {
                coverage.stored(seq);
              }
              pending.decrementAndGet();
              if (!gone) {
                webSocket.request(1);
              }
            }
          });
    } catch (RejectedExecutionException stopping) {
      // the source is closing: the message stays unsettled
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
