package dev.switchboard.pull.genesys;

import dev.switchboard.config.PullConfig;
import dev.switchboard.pull.PullStatus;
import dev.switchboard.pull.PulledIngest;
import dev.switchboard.store.EventStore;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * A {@code genesys-notifications} source (docs/sources.md, "Genesys Cloud notifications"): keeps
 * WebSocket channels to the Genesys Cloud Notification API open, stores every event it streams
 * through the gateway's durable ingest before reading the next, and fills every gap from the
 * Analytics API.
 *
 * <p>Channels: the topics are split into slices of at most 1,000 (one channel each). A slice's
 * channel is replaced, the new one created, subscribed and connected <em>before</em> the old one is
 * closed, when Genesys announces {@code v2.system.socket_closing}, when the channel nears the end
 * of its life ({@code channel.rotate_after}), and when its socket closes or stays silent past
 * {@code channel.dead_after} (a {@code ping} is sent after {@code channel.ping_after} of quiet). A
 * refused call waits for its {@code Retry-After}, or backs off up to a minute.
 *
 * <p>Gaps: the source stores until when it is known to hold every event, and fills every gap from
 * the Analytics API before that time moves on ({@link Coverage}).
 *
 * <p>One thread reads messages (each stored before the socket is asked for the next), one keeps the
 * channels, one backfills. Tokens, payloads and the client secret are never logged.
 *
 * <p>This class keeps the channels and says the status; its parts own the rest: {@link
 * ChannelSocket} a socket and its health, {@link MessageReader} what a message brings, {@link
 * Coverage} the stored time and the gaps, {@link Backfiller} the filling of one gap, {@link
 * Ingester} the storing of an event and the tallies.
 */
public final class NotificationSource implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NotificationSource.class);
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);

  /** How long a replaced channel's socket stays open beside its successor. */
  static final Duration OVERLAP = Duration.ofSeconds(2);

  /** How long a replaced socket's close handshake may take before it is dropped. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

  private final String name;
  private final PullConfig config;
  private final Clock clock;
  private final Duration tick;
  private final PlatformApi api;
  private final HttpClient http;
  private final ScheduledExecutorService keeper;
  private final ExecutorService reader;
  private final ExecutorService backfillThread;
  private final List<Slice> slices;
  private final Ingester ingester;
  private final Backfiller backfiller;
  private final Coverage coverage;
  private final MessageReader messages;
  private final AtomicLong reconnects = new AtomicLong();
  private volatile boolean closed;

  /**
   * @param tick how often the channels are looked after (a second; tests shorten it)
   */
  public NotificationSource(
      String name,
      PullConfig config,
      PulledIngest ingest,
      EventStore store,
      Clock clock,
      Duration tick) {
    this.name = name;
    this.config = config;
    this.clock = clock;
    this.tick = tick;
    this.api = new PlatformApi(config, clock);
    this.http = HttpClient.newBuilder().connectTimeout(ChannelSocket.CONNECT_TIMEOUT).build();
    this.keeper = Executors.newSingleThreadScheduledExecutor(daemon("pull-" + name));
    this.reader =
        Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("pull-" + name + "-", 0).factory());
    this.backfillThread = Executors.newSingleThreadExecutor(daemon("pull-" + name + "-backfill"));
    this.slices = Slice.split(config.topics());
    this.ingester = new Ingester(name, ingest, clock, () -> closed);
    this.backfiller = new Backfiller(config, api, ingester, () -> closed);
    this.coverage =
        new Coverage(
            name,
            config,
            store,
            clock,
            ingester,
            backfiller,
            backfillThread,
            keeper,
            () -> sockets(false));
    this.messages =
        new MessageReader(name, clock, ingester, () -> keeper.execute(this::keepSafely));
  }

  /** Reads the stored coverage and starts keeping the channels. */
  public void start() {
    Instant coveredUntil = coverage.load();
    LOG.info(
        "genesys-notifications source {}: {} topic(s) on {} channel(s), {}",
        name,
        config.topics().size(),
        slices.size(),
        coveredUntil == null ? "first start" : "holds every event up to " + coveredUntil);
    keeper.scheduleWithFixedDelay(this::keepSafely, 0, tick.toMillis(), TimeUnit.MILLISECONDS);
  }

  public String name() {
    return name;
  }

  public PullConfig config() {
    return config;
  }

  // --- the keeper ---------------------------------------------------------------------------

  private void keepSafely() {
    if (closed) {
      return;
    }
    MDC.put("source", name);
    try {
      keep();
    } catch (RuntimeException e) {
      StackTraceElement at = e.getStackTrace().length > 0 ? e.getStackTrace()[0] : null;
      LOG.error("pull source {} failed: {} at {}", name, e.getClass().getName(), at);
    } finally {
      MDC.remove("source");
    }
  }

  /** Every channel's current socket and those replaced and still closing (or all, gone too). */
  private List<ChannelSocket> sockets(boolean withGone) {
    List<ChannelSocket> all = new ArrayList<>();
    for (Slice slice : slices) {
      ChannelSocket current = slice.current;
      if (current != null) {
        all.add(current);
      }
      for (ChannelSocket old : slice.retiring) {
        if (withGone || !old.gone()) {
          all.add(old);
        }
      }
    }
    return all;
  }

  private void keep() {
    Instant now = clock.instant();
    boolean allLive = true;
    for (Slice slice : slices) {
      slice.retiring.removeIf(ChannelSocket::gone);
      ChannelSocket current = slice.current;
      if (current != null && current.lost(now, config.deadAfter())) {
        coverage.broken("channel " + current.channel.id() + " lost");
      }
      if (current == null || current.replaceWanted(now, config.deadAfter(), config.rotateAfter())) {
        if (slice.due(now)) {
          replace(slice, now);
        }
      } else if (current.quietFor(now).compareTo(config.quietAfter()) > 0
          && current.pingedBefore(now, config.quietAfter())) {
        current.ping(now);
      }
      ChannelSocket after = slice.current;
      allLive &= after != null && !after.lost(clock.instant(), config.deadAfter());
    }
    coverage.keep(allLive);
  }

  /** A new channel for the slice, connected before the old one is closed. */
  private void replace(Slice slice, Instant now) {
    ChannelSocket old = slice.current;
    ChannelSocket fresh;
    try {
      fresh = open(slice);
    } catch (PlatformApi.Refused refused) {
      slice.refused(now, refused);
      ingester.failed(refused.getMessage());
      return;
    } catch (RuntimeException e) {
      // e.g. a connectUri that is not a URI: backed off like a refusal, not retried every tick
      PlatformApi.Refused refused =
          new PlatformApi.Refused(
              "cannot open a channel: " + e.getClass().getSimpleName(), 0, null);
      slice.refused(now, refused);
      ingester.failed(refused.getMessage());
      return;
    }
    if (closed) {
      fresh.abort();
      return;
    }
    slice.replaced(fresh);
    if (old != null) {
      reconnects.incrementAndGet();
      slice.retiring.add(old);
      // both sockets stay open a moment: what the old one was still sending arrives, and what
      // comes on both is one event (the key); then its close handshake, bounded in time: a socket
      // that does not close is dropped, and what it may have held becomes a gap to backfill
      keeper.schedule(old::retire, OVERLAP.toMillis(), TimeUnit.MILLISECONDS);
      keeper.schedule(
          () -> {
            if (!old.gone()) {
              old.abort();
              coverage.broken("replaced channel " + old.channel.id() + " did not close in time");
            }
          },
          OVERLAP.plus(CLOSE_WAIT).toMillis(),
          TimeUnit.MILLISECONDS);
      LOG.info(
          "genesys-notifications source {}: channel {} replaced by {} ({})",
          name,
          old.channel.id(),
          fresh.channel.id(),
          old.why(now, config.deadAfter(), config.rotateAfter()));
    }
  }

  /** How long to wait after a refusal: its Retry-After, or 2, 4, 8… s up to a minute. */
  static Duration backoff(PlatformApi.Refused refused, int failures) {
    return refused.retryAfter != null
        ? refused.retryAfter
        : Duration.ofSeconds(Math.min(MAX_BACKOFF.toSeconds(), 1L << Math.min(failures, 6)));
  }

  private ChannelSocket open(Slice slice) throws PlatformApi.Refused {
    PlatformApi.Channel channel = api.createChannel();
    api.subscribe(channel.id(), slice.topics);
    ChannelSocket socket =
        new ChannelSocket(
            name,
            channel,
            slice.topics.size(),
            clock,
            coverage,
            reader,
            messages::read,
            () -> keeper.execute(this::keepSafely),
            () -> closed);
    socket.connect(http);
    return socket;
  }

  // --- status and close ----------------------------------------------------------------------

  public PullStatus status() {
    List<PullStatus.ChannelStatus> channels = new ArrayList<>();
    boolean allLive = !slices.isEmpty();
    Instant now = clock.instant();
    for (Slice slice : slices) {
      ChannelSocket c = slice.current;
      if (c == null || c.lost(now, config.deadAfter())) {
        allLive = false;
      }
      if (c != null) {
        channels.add(c.status(now, config.deadAfter()));
      }
    }
    Instant lastErrorAt = ingester.lastErrorAt();
    String state =
        closed
            ? "stopped"
            : allLive
                ? "connected"
                : lastErrorAt != null && channels.isEmpty() ? "failing" : "connecting";
    return new PullStatus(
        name,
        "genesys-notifications",
        state,
        List.copyOf(channels),
        config.topics().size(),
        messages.lastMessageAt(),
        coverage.coveredUntil(),
        coverage.backfilling(),
        ingester.events(),
        ingester.duplicates(),
        messages.heartbeats(),
        reconnects.get(),
        backfiller.backfilled(),
        ingester.errors(),
        ingester.lastError(),
        lastErrorAt);
  }

  @Override
  public void close() {
    closed = true;
    // the keeper first: it moves the coverage, and must not save it past what is left unstored
    keeper.shutdownNow();
    try {
      keeper.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    backfillThread.shutdownNow();
    sockets(true).forEach(ChannelSocket::abort);
    reader.shutdown();
    try {
      reader.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    api.close();
    // not close(): it waits for every operation to end, an unanswered socket's too
    http.shutdownNow();
  }

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
