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
 * stored.
 */
final class MessageReader {
  // one logger for all a source says, whichever of its parts says it
  private static final Logger LOG = LoggerFactory.getLogger(NotificationSource.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String source;
  private final Clock clock;
  private final Ingester ingester;
  private final Runnable lookAfter;
  private final AtomicLong heartbeats = new AtomicLong();
  private volatile Instant lastMessageAt;

  /**
   * @param lookAfter asks the source to look after its channels now (one is closing)
   */
  MessageReader(String source, Clock clock, Ingester ingester, Runnable lookAfter) {
    this.source = source;
    this.clock = clock;
    this.ingester = ingester;
    this.lookAfter = lookAfter;
  }

  long heartbeats() {
    return heartbeats.get();
  }

  Instant lastMessageAt() {
    return lastMessageAt;
  }

  /**
   * One complete message, registered with the coverage on arrival ({@link ChannelSocket#onText});
   * returns once it is stored, or is not an event: whether it is settled (false when the source
   * stopped before it was stored, so that coverage never passes it).
   */
  boolean read(ChannelSocket from, String text) {
    lastMessageAt = clock.instant();
    JsonNode envelope;
    try {
      envelope = JSON.readTree(text);
    } catch (Exception e) {
      ingester.failed("a message from Genesys is not JSON");
      return true;
    }
    String topic = envelope.path("topicName").asText("");
    if (Messages.HEARTBEAT_TOPIC.equals(topic)) {
      heartbeats.incrementAndGet();
      return true;
    }
    if (Messages.SOCKET_CLOSING_TOPIC.equals(topic)) {
      LOG.info(
          "genesys-notifications source {}: channel {} is closing soon; replacing it",
          source,
          from.channel.id());
      from.closing();
      lookAfter.run();
      return true;
    }
    if (topic.isEmpty() || !envelope.has("eventBody")) {
      return true; // a system message of another kind: not an event
    }
    return ingester.store(text, Messages.headers(envelope, text)) != Ingester.Stored.ABANDONED;
  }
}
