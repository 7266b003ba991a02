package dev.switchboard.pull.genesys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.PullConfig;
import dev.switchboard.ingest.IngestResponse;
import dev.switchboard.pull.PullStatus;
import dev.switchboard.pull.PulledIngest;
import dev.switchboard.store.EventStore;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
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
 * <p>Gaps: the source stores, with the same writer as its events, until when it is known to hold
 * every event ({@link EventStore#savePullCoverage}): every couple of seconds while every channel
 * has been connected without a break. A break (a dropped socket, a restart, a crash) stops that
 * clock; once every channel is connected again, the conversations that changed between the stored
 * time (less {@code backfill.overlap}) and the reconnection are read from the Analytics API and
 * ingested as the events their topics would have streamed ({@link Backfill}); only then does the
 * clock move on. Duplicates from overlapping channels and backfills are absorbed by the source's
 * idempotency key ({@link Messages}).
 *
 * <p>One thread reads messages (each stored before the socket is asked for the next), one keeps the
 * channels, one backfills. Tokens, payloads and the client secret are never logged.
 */
public final class NotificationSource implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NotificationSource.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PAGE_SIZE = 100;
  private static final Duration SAVE_EVERY = Duration.ofSeconds(2);
  private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(15);

  /**
   * Events stored at once, from a socket or a backfill: each waits for its group commit, so one at
   * a time would leave the writer's batches empty. Order among them is the store's event time.
   */
  static final int WINDOW = 64;

  /** How long a replaced channel's socket stays open beside its successor. */
  static final Duration OVERLAP = Duration.ofSeconds(2);

  private final String name;
  private final PullConfig config;
  private final PulledIngest ingest;
  private final EventStore store;
  private final Clock clock;
  private final Duration tick;
  private final PlatformApi api;
  private final HttpClient http;
  private final ScheduledExecutorService keeper;
  private final ExecutorService reader;
  private final ExecutorService backfiller;
  private final List<Slice> slices = new ArrayList<>();
  private final Set<String> backfillTopics;

  private final AtomicLong events = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong heartbeats = new AtomicLong();
  private final AtomicLong reconnects = new AtomicLong();
  private final AtomicLong backfilled = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private volatile String lastError;
  private volatile Instant lastErrorAt;
  private volatile Instant lastMessageAt;
  private volatile boolean closed;

  // coverage: only the keeper thread writes these, but status() reads them
  private volatile Instant coveredUntil;
  private volatile Instant continuousSince;
  private volatile Instant gapFrom;
  private volatile boolean backfilling;
  private volatile Instant backfillRetryAt = Instant.MIN;
  private int backfillFailures;
  private Instant lastSave = Instant.MIN;

  /**
   * Messages received and not yet stored, by arrival order: coverage never passes the oldest. At
   * most {@link #WINDOW} per socket are in flight, the socket asked for one more as each is stored.
   */
  private final java.util.concurrent.ConcurrentSkipListMap<Long, Instant> inFlight =
      new java.util.concurrent.ConcurrentSkipListMap<>();

  private final AtomicLong arrivals = new AtomicLong();

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
    this.ingest = ingest;
    this.store = store;
    this.clock = clock;
    this.tick = tick;
    this.api = new PlatformApi(config, clock);
    this.http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
    this.keeper = Executors.newSingleThreadScheduledExecutor(daemon("pull-" + name));
    this.reader =
        Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("pull-" + name + "-", 0).factory());
    this.backfiller = Executors.newSingleThreadExecutor(daemon("pull-" + name + "-backfill"));
    List<String> topics = config.topics();
    for (int i = 0; i < topics.size(); i += PullConfig.TOPICS_PER_CHANNEL) {
      slices.add(
          new Slice(
              List.copyOf(
                  topics.subList(i, Math.min(topics.size(), i + PullConfig.TOPICS_PER_CHANNEL)))));
    }
    Set<String> fillable = new LinkedHashSet<>();
    topics.stream().filter(Backfill::backfillable).forEach(fillable::add);
    this.backfillTopics = Set.copyOf(fillable);
  }

  /** Reads the stored coverage and starts keeping the channels. */
  public void start() {
    coveredUntil = store.pullCoverage(name).orElse(null);
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

  private void keep() {
    Instant now = clock.instant();
    boolean allLive = true;
    for (Slice slice : slices) {
      Connection current = slice.current;
      if (current != null && current.lost(now, config.deadAfter())) {
        breakCoverage("channel " + current.channel.id() + " lost");
      }
      if (current == null || current.replaceWanted(now, config.rotateAfter())) {
        if (!now.isBefore(slice.retryAt)) {
          replace(slice, now);
        }
      } else if (current.quietFor(now).compareTo(config.quietAfter()) > 0
          && current.pingedBefore(now, config.quietAfter())) {
        current.ping(now);
      }
      Connection after = slice.current;
      allLive &= after != null && !after.lost(clock.instant(), config.deadAfter());
    }
    coverage(allLive);
  }

  /** A new channel for the slice, connected before the old one is closed. */
  private void replace(Slice slice, Instant now) {
    Connection old = slice.current;
    Connection fresh;
    try {
      fresh = open(slice);
    } catch (PlatformApi.Refused refused) {
      slice.failures++;
      Duration wait =
          refused.retryAfter != null
              ? refused.retryAfter
              : Duration.ofSeconds(
                  Math.min(MAX_BACKOFF.toSeconds(), 1L << Math.min(slice.failures, 6)));
      slice.retryAt = now.plus(wait);
      failed(refused.getMessage());
      return;
    }
    slice.failures = 0;
    slice.current = fresh;
    if (old != null) {
      reconnects.incrementAndGet();
      // both sockets stay open a moment: what the old one was still sending arrives, and what
      // comes on both is one event (the key)
      keeper.schedule(old::retire, OVERLAP.toMillis(), TimeUnit.MILLISECONDS);
      LOG.info(
          "genesys-notifications source {}: channel {} replaced by {} ({})",
          name,
          old.channel.id(),
          fresh.channel.id(),
          old.why(now, config.deadAfter(), config.rotateAfter()));
    }
  }

  private Connection open(Slice slice) throws PlatformApi.Refused {
    PlatformApi.Channel channel = api.createChannel();
    api.subscribe(channel.id(), slice.topics);
    Connection connection = new Connection(channel, slice.topics.size(), clock.instant());
    try {
      connection.socket =
          http.newWebSocketBuilder()
              .connectTimeout(CONNECT_TIMEOUT)
              .buildAsync(channel.connectUri(), connection)
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
    connection.connectedSince = clock.instant();
    connection.lastMessage = connection.connectedSince;
    return connection;
  }

  // --- coverage and backfill ------------------------------------------------------------------

  private void breakCoverage(String why) {
    if (continuousSince != null) {
      LOG.info("genesys-notifications source {}: gap opens ({})", name, why);
    }
    continuousSince = null;
  }

  private void coverage(boolean allLive) {
    Instant now = clock.instant();
    if (!allLive) {
      breakCoverage("not every channel is connected");
      return;
    }
    if (continuousSince == null) {
      continuousSince = now;
      if (coveredUntil != null && config.backfill().enabled()) {
        gapFrom = coveredUntil.minus(config.backfill().overlap());
      } else {
        gapFrom = null;
        save(now); // a first start begins when it connects: there is nothing before to fill
      }
    }
    if (gapFrom != null) {
      if (!backfilling && !now.isBefore(backfillRetryAt)) {
        Instant from = gapFrom;
        Instant to = continuousSince;
        backfilling = true;
        backfiller.execute(() -> backfillSafely(from, to));
      }
      return;
    }
    if (Duration.between(lastSave, now).compareTo(SAVE_EVERY) >= 0) {
      save(safeUntil(now));
    }
  }

  /**
   * Up to when the stream is known complete: each channel's socket delivers in order, so everything
   * sent before the last message heard on every channel has arrived; never past a message still
   * being stored. (A socket that died silently stops this clock at once, long before it is declared
   * dead.)
   */
  private Instant safeUntil(Instant now) {
    Instant until = now;
    for (Slice slice : slices) {
      Connection c = slice.current;
      Instant heard = c == null ? null : c.lastMessage;
      if (heard == null || heard.isBefore(until)) {
        until = heard == null ? until : heard;
      }
    }
    var oldest = inFlight.firstEntry();
    Instant busy = oldest == null ? null : oldest.getValue();
    return busy != null && busy.isBefore(until) ? busy : until;
  }

  private void save(Instant until) {
    try {
      store.savePullCoverage(name, until);
      if (coveredUntil == null || until.isAfter(coveredUntil)) {
        coveredUntil = until;
      }
      lastSave = clock.instant();
    } catch (RuntimeException e) {
      failed("cannot record coverage in the store: " + e.getClass().getSimpleName());
    }
  }

  private void backfillSafely(Instant from, Instant to) {
    MDC.put("source", name);
    try {
      long count = backfill(from, to);
      LOG.info(
          "genesys-notifications source {}: gap {} to {} backfilled, {} event(s) from {}"
              + " conversation topic(s)",
          name,
          from,
          to,
          count,
          backfillTopics.size());
      keeper.execute(() -> backfillDone(to));
    } catch (PlatformApi.Refused refused) {
      failed("backfill: " + refused.getMessage());
      Duration wait =
          refused.retryAfter != null
              ? refused.retryAfter
              : Duration.ofSeconds(
                  Math.min(MAX_BACKOFF.toSeconds(), 1L << Math.min(++backfillFailures, 6)));
      backfillRetryAt = clock.instant().plus(wait);
      backfilling = false;
    } catch (RuntimeException e) {
      failed("backfill failed: " + e.getClass().getSimpleName());
      backfillRetryAt = clock.instant().plus(Duration.ofSeconds(5));
      backfilling = false;
    } finally {
      MDC.remove("source");
    }
  }

  private void backfillDone(Instant to) {
    backfillFailures = 0;
    save(to);
    gapFrom = null;
    backfilling = false;
  }

  /** Ingests what the topics would have streamed about conversations changed in [from, to). */
  private long backfill(Instant from, Instant to) throws PlatformApi.Refused {
    if (backfillTopics.isEmpty() || !from.isBefore(to)) {
      return 0;
    }
    Instant queryFrom = from.minus(config.backfill().lookback());
    AtomicLong count = new AtomicLong();
    java.util.concurrent.Semaphore window = new java.util.concurrent.Semaphore(WINDOW);
    try (ExecutorService storing = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int page = 1; !closed; page++) {
        PlatformApi.Page found = api.conversations(queryFrom, to, page, PAGE_SIZE);
        for (JsonNode conversation : found.conversations()) {
          if (!Backfill.changedIn(conversation, from, to)) {
            continue;
          }
          for (var envelope : Backfill.envelopes(conversation, backfillTopics)) {
            String text = envelope.toString();
            window.acquireUninterruptibly();
            storing.execute(
                () -> {
                  try {
                    if (store(text, Messages.headers(envelope, text)) == Stored.NEW) {
                      backfilled.incrementAndGet();
                      count.incrementAndGet();
                    }
                  } finally {
                    window.release();
                  }
                });
          }
        }
        if (found.conversations().size() < PAGE_SIZE
            || (long) page * PAGE_SIZE >= found.totalHits()) {
          break;
        }
      }
    } // waits for every store of the backfill
    return count.get();
  }

  private enum Stored {
    NEW,
    DUPLICATE,
    REFUSED
  }

  // --- messages -------------------------------------------------------------------------------

  private void process(Connection from, String text) {
    Instant now = clock.instant();
    from.lastMessage = now;
    lastMessageAt = now;
    JsonNode envelope;
    try {
      envelope = JSON.readTree(text);
    } catch (Exception e) {
      failed("a message from Genesys is not JSON");
      return;
    }
    String topic = envelope.path("topicName").asText("");
    if (Messages.HEARTBEAT_TOPIC.equals(topic)) {
      heartbeats.incrementAndGet();
      return;
    }
    if (Messages.SOCKET_CLOSING_TOPIC.equals(topic)) {
      LOG.info(
          "genesys-notifications source {}: channel {} is closing soon; replacing it",
          name,
          from.channel.id());
      from.closing = true;
      keeper.execute(this::keepSafely);
      return;
    }
    if (topic.isEmpty() || !envelope.has("eventBody")) {
      return; // a system message of another kind: not an event
    }
    long seq = arrivals.incrementAndGet();
    inFlight.put(seq, now);
    try {
      store(text, Messages.headers(envelope, text));
    } finally {
      inFlight.remove(seq);
    }
  }

  /**
   * Stores one event, trying again while the gateway answers 503 (store unwritable, shutting down,
   * back-pressure); a refusal (schema, key) is counted and logged, as a sender would drop it.
   * Whether it was stored (or was already there).
   */
  private Stored store(String text, Map<String, String> headers) {
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    for (int round = 0; !closed; round++) {
      IngestResponse answer = ingest.ingest(body, headers);
      int status = answer.status();
      if (status / 100 == 2) {
        if (Boolean.TRUE.equals(answer.body().get("duplicate"))) {
          duplicates.incrementAndGet();
          return Stored.DUPLICATE;
        }
        events.incrementAndGet();
        return Stored.NEW;
      }
      if (status != 503 && status < 500) {
        failed("an event was refused: HTTP " + status + " " + answer.body().get("error"));
        return Stored.REFUSED;
      }
      try {
        Thread.sleep(Math.min(5_000, 100L << Math.min(round, 6)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Stored.REFUSED;
      }
    }
    return Stored.REFUSED;
  }

  private void failed(String error) {
    errors.incrementAndGet();
    lastError = error;
    lastErrorAt = clock.instant();
    LOG.warn("genesys-notifications source {}: {}", name, error);
  }

  // --- status and close ----------------------------------------------------------------------

  public PullStatus status() {
    List<PullStatus.ChannelStatus> channels = new ArrayList<>();
    boolean allLive = !slices.isEmpty();
    Instant now = clock.instant();
    for (Slice slice : slices) {
      Connection c = slice.current;
      if (c == null || c.lost(now, config.deadAfter())) {
        allLive = false;
      }
      if (c != null) {
        channels.add(
            new PullStatus.ChannelStatus(
                c.channel.id(),
                c.topics,
                c.lost(now, config.deadAfter()) ? null : c.connectedSince,
                c.channel.expires()));
      }
    }
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
        lastMessageAt,
        coveredUntil,
        backfilling,
        events.get(),
        duplicates.get(),
        heartbeats.get(),
        reconnects.get(),
        backfilled.get(),
        errors.get(),
        lastError,
        lastErrorAt);
  }

  @Override
  public void close() {
    closed = true;
    keeper.shutdownNow();
    backfiller.shutdownNow();
    for (Slice slice : slices) {
      if (slice.current != null) {
        slice.current.retire();
      }
    }
    reader.shutdown();
    try {
      reader.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    api.close();
    http.close();
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** Up to 1,000 topics on one channel at a time (two while it is replaced). */
  private static final class Slice {
    final List<String> topics;
    volatile Connection current;
    Instant retryAt = Instant.MIN;
    int failures;

    Slice(List<String> topics) {
      this.topics = topics;
    }
  }

  /** One channel's socket; the listener hands complete messages to the reader thread. */
  private final class Connection implements WebSocket.Listener {
    final PlatformApi.Channel channel;
    final int topics;
    final Instant created;
    volatile WebSocket socket;
    volatile Instant connectedSince;
    volatile Instant lastMessage;
    volatile Instant lastPing = Instant.MIN;
    volatile boolean closing;
    volatile boolean gone;
    volatile boolean retired;
    private final StringBuilder partial = new StringBuilder();

    Connection(PlatformApi.Channel channel, int topics, Instant created) {
      this.channel = channel;
      this.topics = topics;
      this.created = created;
    }

    boolean lost(Instant now, Duration deadAfter) {
      return gone
          || (lastMessage != null && Duration.between(lastMessage, now).compareTo(deadAfter) > 0);
    }

    boolean replaceWanted(Instant now, Duration rotateAfter) {
      return closing
          || lost(now, config.deadAfter())
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
      webSocket.request(WINDOW);
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
                if (!closed) {
                  process(this, text);
                }
              } finally {
                if (!gone) {
                  webSocket.request(1);
                }
              }
            });
      } catch (java.util.concurrent.RejectedExecutionException stopping) {
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
      if (!retired && !closed) {
        LOG.info(
            "genesys-notifications source {}: socket of channel {} {}", name, channel.id(), why);
        keeper.execute(NotificationSource.this::keepSafely);
      }
    }
  }
}
