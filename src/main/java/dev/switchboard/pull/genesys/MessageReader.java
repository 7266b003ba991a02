package dev.switchboard.pull.genesys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a {@link NotificationSource} does with each message its sockets bring, on the reader thread:
 * a heartbeat is counted, a {@code v2.system.socket_closing} has its channel replaced, an event is
 * stored (and coverage held before it until it is); anything heard keeps its socket alive.
 */
final class MessageReader {
  // one logger for all a source says, whichever of its parts says it
  private static final Logger LOG = LoggerFactory.getLogger(NotificationSource.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String source;
  private final Clock clock;
  private final Ingester ingester;
  private final Coverage coverage;
  private final Runnable lookAfter;
  private final AtomicLong heartbeats = new AtomicLong();
  private volatile Instant lastMessageAt;

  /**
   * @param lookAfter asks the source to look after its channels now (one is closing)
   */
  MessageReader(
      String source, Clock clock, Ingester ingester, Coverage coverage, Runnable lookAfter) {
    this.source = source;
    this.clock = clock;
    this.ingester = ingester;
    this.coverage = coverage;
    this.lookAfter = lookAfter;
  }

  long heartbeats() {
    return heartbeats.get();
  }

  Instant lastMessageAt() {
    return lastMessageAt;
  }

  /** One complete message; returns once it is stored, or is not an event. */
  void read(ChannelSocket from, String text) {
    Instant now = clock.instant();
    from.heard(now);
    lastMessageAt = now;
    JsonNode envelope;
    try {
      envelope = JSON.readTree(text);
    } catch (Exception e) {
      ingester.failed("a message from Genesys is not JSON");
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
          source,
          from.channel.id());
      from.closing();
      lookAfter.run();
      return;
    }
    if (topic.isEmpty() || !envelope.has("eventBody")) {
      return; // a system message of another kind: not an event
    }
    long seq = coverage.arrived(now);
    try {
      ingester.store(text, Messages.headers(envelope, text));
    } finally {
      coverage.stored(seq);
    }
  }
}
