package dev.switchboard.pull.genesys;

import dev.switchboard.config.PullConfig;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Up to 1,000 of a {@link NotificationSource}'s topics on one channel at a time (two while it is
 * replaced), and when a refused replacement may be tried again. Only the keeper thread writes it.
 */
final class Slice {
  final List<String> topics;
  volatile ChannelSocket current;

  /** Replaced sockets still closing: what they bring still counts (see ChannelSocket#retire). */
  final List<ChannelSocket> retiring = new java.util.concurrent.CopyOnWriteArrayList<>();

  private Instant retryAt = Instant.MIN;
  private int failures;

  Slice(List<String> topics) {
    this.topics = topics;
  }

  /** The topics in slices of {@link PullConfig#TOPICS_PER_CHANNEL}, in order. */
  static List<Slice> split(List<String> topics) {
    List<Slice> slices = new ArrayList<>();
    for (int i = 0; i < topics.size(); i += PullConfig.TOPICS_PER_CHANNEL) {
      slices.add(
          new Slice(
              List.copyOf(
                  topics.subList(i, Math.min(topics.size(), i + PullConfig.TOPICS_PER_CHANNEL)))));
    }
    return slices;
  }

  /** Whether a new channel may be asked for (not waiting after a refusal). */
  boolean due(Instant now) {
    return !now.isBefore(retryAt);
  }

  void refused(Instant now, PlatformApi.Refused refused) {
    retryAt = now.plus(NotificationSource.backoff(refused, ++failures));
  }

  void replaced(ChannelSocket fresh) {
    failures = 0;
    current = fresh;
  }
}
