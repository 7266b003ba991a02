package dev.switchboard.alerts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operational events' shape (docs/operational-events.schema.json) and their way into the
 * built-in source: each gets its stable id, then waits in order until the store takes it (a 503
 * holds the queue a second; anything else is final). Worker thread only, but for the counters.
 */
final class Outbox {
  private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration STORE_RETRY = Duration.ofSeconds(1);

  private final Alerts.Sink sink;
  private final int capacity;
  private final ArrayDeque<byte[]> unstored = new ArrayDeque<>();
  private final AtomicLong emitted = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private Instant retryAt = Instant.MIN;

  Outbox(Alerts.Sink sink, int capacity) {
    this.sink = sink;
    this.capacity = capacity;
  }

  /** One event, without its id (given by {@link #send}). */
  static ObjectNode event(
      String type,
      String severity,
      ObjectNode subject,
      Instant at,
      ObjectNode data,
      String summary,
      String link) {
    ObjectNode event = JSON.createObjectNode();
    event.put("type", type);
    event.put("severity", severity);
    event.put("occurredAt", at.truncatedTo(ChronoUnit.MILLIS).toString());
    event.set("subject", subject);
    event.set("data", data);
    event.put("summary", summary);
    event.put("link", link);
    return event;
  }

  /** {@code {"destination": …}} */
  static ObjectNode destination(String name) {
    return JSON.createObjectNode().put("destination", name);
  }

  /** {@code {"source": …}} */
  static ObjectNode source(String name) {
    return JSON.createObjectNode().put("source", name);
  }

  /** About the gateway as a whole (the store, the backlog). */
  static ObjectNode gateway() {
    return JSON.createObjectNode();
  }

  /** An event's {@code data} from name, value pairs (text or a number). */
  static ObjectNode data(Object... pairs) {
    ObjectNode data = JSON.createObjectNode();
    for (int i = 0; i < pairs.length; i += 2) {
      String name = (String) pairs[i];
      switch (pairs[i + 1]) {
        case null -> data.putNull(name);
        case Integer n -> data.put(name, n);
        case Long n -> data.put(name, n);
        default -> data.put(name, pairs[i + 1].toString());
      }
    }
    return data;
  }

  /** Gives the event its stable id (from {@code seed}) and queues it for the store. */
  void send(ObjectNode event, String seed, Instant now) {
    ObjectNode ordered = JSON.createObjectNode();
    ordered.put("id", "op_" + digest(seed));
    ordered.setAll(event);
    try {
      unstored.addLast(JSON.writeValueAsBytes(ordered));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("an operational event is always JSON", e);
    }
    while (unstored.size() > capacity) {
      unstored.removeFirst();
      dropped.incrementAndGet();
    }
    store(now);
  }

  /** Stores what waits, in order, until the store refuses one (then again in a second). */
  void store(Instant now) {
    if (now.isBefore(retryAt)) {
      return;
    }
    while (!unstored.isEmpty()) {
      int status;
      try {
        status = sink.store(unstored.peekFirst());
      } catch (RuntimeException e) {
        LOG.warn("an operational event could not be stored: {}", e.getClass().getName());
        status = 503;
      }
      if (status == 503) {
        retryAt = now.plus(STORE_RETRY);
        return;
      }
      unstored.removeFirst();
      if (status / 100 == 2) {
        emitted.incrementAndGet();
      } else {
        LOG.warn("an operational event was refused by its source: HTTP {}", status);
      }
    }
  }

  long emitted() {
    return emitted.get();
  }

  long dropped() {
    return dropped.get();
  }

  private static String digest(String seed) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(seed.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
