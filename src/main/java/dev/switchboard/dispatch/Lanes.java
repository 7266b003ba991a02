package dev.switchboard.dispatch;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.Destination;
import io.github.bucket4j.Bucket;
import java.time.Clock;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dispatcher's lanes by destination name: built from the configuration, and matched to a
 * reloaded one (on the loop). The map is replaced whole, so any thread may read it.
 */
final class Lanes {
  private static final Logger LOG = LoggerFactory.getLogger(Lanes.class);

  /** Why a destination removed from the file by a reload is held. */
  static final String REMOVED =
      "removed from the configuration; its deliveries wait in the store until it is back";

  private final Clock clock;
  private final RandomGenerator random;
  private final int capacity;
  private final LaneBytes bytes;
  private final boolean orderedByStore;
  private final IntSupplier nodes;
  private volatile Map<String, DestinationLane> byName = Map.of();

  /**
   * @param capacity deliveries each lane holds in memory
   * @param bytes what all lanes together hold in memory
   * @param orderedByStore cluster mode: the store's claims keep per-key order
   * @param nodes the live nodes a rate limit is shared by
   */
  Lanes(
      Clock clock,
      RandomGenerator random,
      int capacity,
      LaneBytes bytes,
      boolean orderedByStore,
      IntSupplier nodes) {
    this.clock = clock;
    this.random = random;
    this.capacity = capacity;
    this.bytes = bytes;
    this.orderedByStore = orderedByStore;
    this.nodes = nodes;
  }

  Map<String, DestinationLane> byName() {
    return byName;
  }

  Collection<DestinationLane> all() {
    return byName.values();
  }

  DestinationLane get(String name) {
    return byName.get(name);
  }

  /**
   * Matches the lanes to a configuration: a destination whose settings and connector are unchanged
   * keeps its lane as it is (queue, pauses, breaker, rate limit); a changed one takes the new
   * settings and connector, with a fresh breaker and rate limit, and lets go of what waited in
   * memory ({@code letGo}, then read again from the store); a destination no longer in the file is
   * withdrawn, held like an unavailable one. Connectors replaced are added to {@code replaced}, to
   * be closed once the attempts running on them finish.
   */
  void match(
      Map<String, DestinationConfig> configs,
      Map<String, Destination> connectors,
      Map<String, String> unavailable,
      RouteTable routes,
      Set<String> paused,
      java.util.function.Consumer<DestinationLane> letGo,
      List<Runnable> replaced) {
    Map<String, DestinationLane> next = new LinkedHashMap<>();
    for (DestinationConfig config : configs.values()) {
      String name = config.name();
      Destination connector = connectors.get(name);
      String reason = unavailable.getOrDefault(name, "no connector");
      Set<String> perKey = routes.perKeyRoutes(name);
      DestinationLane lane = byName.get(name);
      if (lane == null) {
        lane = newLane(config, connector, reason, perKey);
        if (paused.contains(name)) {
          lane.pause();
        }
      } else {
        boolean changed = !lane.config().equals(config) || lane.connector() != connector;
        if (lane.connector() != null && lane.connector() != connector) {
          replaced.add(lane.connector()::close);
        }
        if (changed) {
          lane.rewire(
              config,
              connector,
              reason,
              rateOf(config, 1),
              new RetryPolicy(config.retry(), random));
        }
        if (changed || !lane.memory().perKeyRoutes().equals(perKey)) {
          letGo.accept(lane);
          lane.forgetWaiting(perKey);
        }
        lane.explainUnavailable(reason);
      }
      lane.wantWork();
      next.put(name, lane);
    }
    for (DestinationLane lane : byName.values()) {
      if (!next.containsKey(lane.name())) {
        if (lane.connector() != null) {
          replaced.add(lane.connector()::close);
          LOG.warn("destination {} is held: {}", lane.name(), REMOVED);
        }
        lane.withdraw(REMOVED);
        letGo.accept(lane);
        lane.forgetWaiting(lane.memory().perKeyRoutes());
        next.put(lane.name(), lane);
      }
    }
    byName = Collections.unmodifiableMap(next);
    bytes.shareAmong(next.size());
  }

  private DestinationLane newLane(
      DestinationConfig config, Destination connector, String reason, Set<String> perKey) {
    return new DestinationLane(
        config,
        connector,
        reason,
        rateOf(config, 1),
        new RetryPolicy(config.retry(), random),
        new LaneMemory(capacity, bytes, orderedByStore, perKey));
  }

  /** This node's share of the rate limit: a cluster divides it by its live nodes. */
  private Bucket rateOf(DestinationConfig config, int initialTokens) {
    return RateBuckets.of(config, nodes.getAsInt(), clock, initialTokens);
  }

  /** The live-node count changed: every lane's rate limit takes its new share, with no burst. */
  void rescaleRates() {
    byName.values().forEach(lane -> lane.rescaleRate(rateOf(lane.config(), 0)));
  }
}
