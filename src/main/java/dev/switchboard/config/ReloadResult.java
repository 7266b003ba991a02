package dev.switchboard.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a configuration reload changed, by name, and what it could not change.
 *
 * <p>The rule: sources, routes, destinations, enrichers, the admin token and the server's ingest
 * settings ({@code trusted_proxies}, {@code shutdown_grace}, {@code backlog_high_water}, {@code
 * ack_timeout}, {@code request_timeout}) change live; {@code store.*} and {@code server.host},
 * {@code server.port}, {@code server.tls} are bound when the process starts, so a change there is
 * reported as a warning and the running values are kept until a restart. Warnings name keys, never
 * values (a store URL or password may be a secret).
 *
 * @param warnings what was not applied, and why
 */
public record ReloadResult(
    Changes sources,
    Changes routes,
    Changes destinations,
    Changes enrichers,
    boolean adminTokenChanged,
    List<String> warnings) {

  /** Names added, removed and changed in one section, in file order. */
  public record Changes(List<String> added, List<String> removed, List<String> changed) {
    static <T> Changes between(Map<String, T> before, Map<String, T> after) {
      List<String> added = new ArrayList<>();
      List<String> changed = new ArrayList<>();
      after.forEach(
          (name, value) -> {
            if (!before.containsKey(name)) {
              added.add(name);
            } else if (!Objects.equals(before.get(name), value)) {
              changed.add(name);
            }
          });
      List<String> removed = before.keySet().stream().filter(n -> !after.containsKey(n)).toList();
      return new Changes(List.copyOf(added), removed, List.copyOf(changed));
    }

    public boolean isEmpty() {
      return added.isEmpty() && removed.isEmpty() && changed.isEmpty();
    }
  }

  /** Compares the running configuration with a freshly loaded one. */
  public static ReloadResult between(SwitchboardConfig running, SwitchboardConfig loaded) {
    List<String> warnings = new ArrayList<>();
    StoreConfig a = running.store();
    StoreConfig b = loaded.store();
    warnIfChanged(warnings, "store.type", a.type(), b.type());
    warnIfChanged(warnings, "store.path", a.path(), b.path());
    warnIfChanged(warnings, "store.url", a.url(), b.url());
    warnIfChanged(warnings, "store.user", a.user(), b.user());
    warnIfChanged(warnings, "store.password", a.password(), b.password());
    warnIfChanged(warnings, "store.max_size", a.maxSizeBytes(), b.maxSizeBytes());
    warnIfChanged(warnings, "server.host", running.server().host(), loaded.server().host());
    warnIfChanged(warnings, "server.port", running.server().port(), loaded.server().port());
    warnIfChanged(warnings, "server.tls", running.server().tls(), loaded.server().tls());
    warnIfChanged(warnings, "telemetry", running.telemetry(), loaded.telemetry());
    return new ReloadResult(
        Changes.between(running.sources(), loaded.sources()),
        Changes.between(running.routes(), loaded.routes()),
        Changes.between(running.destinations(), loaded.destinations()),
        Changes.between(running.enrichers(), loaded.enrichers()),
        !Objects.equals(token(running), token(loaded)),
        List.copyOf(warnings));
  }

  /**
   * The configuration to run after a reload: everything from {@code loaded} but the store, the
   * listener's address and TLS, and the telemetry, which stay as {@code running} has them until a
   * restart.
   */
  public static SwitchboardConfig applicable(SwitchboardConfig running, SwitchboardConfig loaded) {
    ServerConfig was = running.server();
    ServerConfig now = loaded.server();
    ServerConfig server =
        new ServerConfig(
            was.host(),
            was.port(),
            was.tls(),
            now.trustedProxies(),
            now.shutdownGrace(),
            now.backlogHighWater(),
            now.ackTimeout(),
            now.requestTimeout());
    return new SwitchboardConfig(
        loaded.file(),
        server,
        running.store(),
        loaded.admin(),
        loaded.sources(),
        loaded.enrichers(),
        loaded.routes(),
        loaded.destinations(),
        running.telemetry(),
        loaded.alerts());
  }

  /** Whether anything at all changes. */
  public boolean changedNothing() {
    return sources.isEmpty()
        && routes.isEmpty()
        && destinations.isEmpty()
        && enrichers.isEmpty()
        && !adminTokenChanged
        && warnings.isEmpty();
  }

  private static void warnIfChanged(List<String> warnings, String key, Object was, Object now) {
    if (!Objects.equals(was, now)) {
      warnings.add(key + " changed: takes effect after a restart");
    }
  }

  private static String token(SwitchboardConfig config) {
    return config.admin() == null ? null : config.admin().token();
  }
}
