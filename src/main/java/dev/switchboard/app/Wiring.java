package dev.switchboard.app;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.EnricherConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.Enricher;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The connectors and enrichers of one configuration, as the gateway runs them.
 *
 * @param unavailable the destinations this version has no connector for, and why
 */
record Wiring(
    Map<String, Destination> destinations,
    Map<String, String> unavailable,
    Map<String, Enricher> enrichers) {

  /**
   * Builds the connectors and enrichers of {@code next}; with a previous configuration, one whose
   * settings did not change keeps its running instance (and its connections, tokens and caches).
   *
   * @throws IllegalArgumentException when a connector cannot be built from its settings; whatever
   *     this call built is closed again
   */
  static Wiring build(
      Connectors connectors, SwitchboardConfig next, SwitchboardConfig previous, Wiring old) {
    Map<String, Destination> built = new LinkedHashMap<>();
    Map<String, String> unavailable = new LinkedHashMap<>();
    Map<String, Enricher> enrichers = new LinkedHashMap<>();
    List<Runnable> fresh = new ArrayList<>();
    String building = null;
    try {
      for (DestinationConfig destination : next.destinations().values()) {
        building = "destinations." + destination.name();
        String name = destination.name();
        boolean same = old != null && destination.equals(previous.destinations().get(name));
        Destination connector = same ? old.destinations().get(name) : null;
        if (!same) {
          connector = connectors.build(destination);
          if (connector != null) {
            fresh.add(connector::close);
          }
        }
        if (connector != null) {
          built.put(name, connector);
        } else {
          unavailable.put(
              name, "the " + destination.type() + " connector is not available in this version");
        }
      }
      for (EnricherConfig enricher : next.enrichers().values()) {
        building = "enrichers." + enricher.name();
        boolean same = old != null && enricher.equals(previous.enrichers().get(enricher.name()));
        Enricher instance = same ? old.enrichers().get(enricher.name()) : null;
        if (!same) {
          instance = connectors.enricher(enricher);
          fresh.add(instance::close);
        }
        enrichers.put(enricher.name(), instance);
      }
    } catch (RuntimeException e) {
      fresh.forEach(Runnable::run);
      if (old == null) {
        throw e;
      }
      throw new IllegalArgumentException(building + ": " + e.getMessage(), e);
    }
    return new Wiring(built, unavailable, enrichers);
  }

  /** Closes what this wiring built that {@code running} does not use (a failed reload's). */
  void closeUnusedBy(Wiring running) {
    destinations.forEach(
        (name, d) -> {
          if (running.destinations().get(name) != d) {
            d.close();
          }
        });
    enrichers.forEach(
        (name, e) -> {
          if (running.enrichers().get(name) != e) {
            e.close();
          }
        });
  }
}
