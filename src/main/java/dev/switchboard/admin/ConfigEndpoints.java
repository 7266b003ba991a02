package dev.switchboard.admin;

import dev.switchboard.config.RouteConfig;
import dev.switchboard.config.SourceConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.expr.Expression;
import dev.switchboard.observability.GatewayMetrics;
import dev.switchboard.pull.PullStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Sources (with their requests and rejections by reason since start) and routes, as configured.
 * Never a secret: a source shows how many secrets it accepts, not what they are.
 */
final class ConfigEndpoints {
  private static final Set<String> STORED = Set.of("accepted", "duplicate", "quarantined");

  private final Supplier<SwitchboardConfig> config;
  private final GatewayMetrics metrics;
  private final Supplier<List<PullStatus>> pulls;

  ConfigEndpoints(
      Supplier<SwitchboardConfig> config,
      GatewayMetrics metrics,
      Supplier<List<PullStatus>> pulls) {
    this.config = config;
    this.metrics = metrics;
    this.pulls = pulls;
  }

  void register(ApiRouter api) {
    api.get("/api/v1/sources", Set.of(), r -> sources());
    api.get("/api/v1/routes", Set.of(), r -> routes());
  }

  private Object sources() {
    Map<String, Map<String, Long>> counts = metrics.ingestCounts();
    List<Views.Obj> items = new ArrayList<>();
    Map<String, PullStatus> pulled = new java.util.HashMap<>();
    pulls.get().forEach(p -> pulled.put(p.source(), p));
    for (SourceConfig s : config.get().sources().values()) {
      Map<String, Long> requests = new TreeMap<>();
      STORED.forEach(outcome -> requests.put(outcome, 0L));
      Map<String, Long> rejections = new TreeMap<>();
      counts
          .getOrDefault(s.name(), Map.of())
          .forEach(
              (outcome, n) -> (STORED.contains(outcome) ? requests : rejections).put(outcome, n));
      items.add(
          Views.obj()
              .with("name", s.name())
              .with("type", s.pulled() ? "genesys-notifications" : "http")
              .with("path", s.pulled() ? null : "/hooks/" + s.name())
              .with("pull", s.pulled() ? pullView(pulled.get(s.name()), s) : null)
              .with(
                  "verify",
                  Views.obj()
                      .with("scheme", s.verify().scheme())
                      .with("preset", s.verify().preset())
                      .with("header", s.verify().header())
                      .with("secrets", s.verify().secrets().size()))
              .with("allowIps", s.allowIps())
              .with("maxBodyBytes", s.maxBodyBytes())
              .with(
                  "rateLimit",
                  s.rateLimit() == null
                      ? null
                      : Views.obj()
                          .with("count", s.rateLimit().count())
                          .with("perSeconds", s.rateLimit().per().toSeconds()))
              .with(
                  "idempotency",
                  s.idempotency() == null
                      ? null
                      : Views.obj()
                          .with("key", text(s.idempotency().key()))
                          .with("ttlSeconds", s.idempotency().ttl().toSeconds())
                          .with("required", s.idempotency().required()))
              .with("eventTime", text(s.eventTime()))
              .with("partitionKey", text(s.partitionKey()))
              .with("schema", s.schema() != null)
              .with("onInvalid", lower(s.onInvalid()))
              .with("requests", requests)
              .with("rejections", rejections));
    }
    return Views.obj().with("countedSince", metrics.since()).with("items", items);
  }

  /** A pulled source's live state; never its client secret or a token. */
  private static Views.Obj pullView(PullStatus p, SourceConfig s) {
    Views.Obj view =
        Views.obj()
            .with("apiHost", s.pull().apiUrl().getHost())
            .with("topics", s.pull().topics().size());
    if (p == null) {
      return view.with("state", "stopped");
    }
    List<Views.Obj> channels = new ArrayList<>();
    for (PullStatus.ChannelStatus c : p.channels()) {
      channels.add(
          Views.obj()
              .with("id", c.id())
              .with("topics", c.topics())
              .with("connectedSince", c.connectedSince())
              .with("expires", c.expires()));
    }
    return view.with("state", p.state())
        .with("channels", channels)
        .with("lastMessageAt", p.lastMessageAt())
        .with("coveredUntil", p.coveredUntil())
        .with("backfilling", p.backfilling())
        .with("events", p.events())
        .with("duplicates", p.duplicates())
        .with("heartbeats", p.heartbeats())
        .with("reconnects", p.reconnects())
        .with("backfilledEvents", p.backfilledEvents())
        .with("errors", p.errors())
        .with("lastError", p.lastError())
        .with("lastErrorAt", p.lastErrorAt());
  }

  private Object routes() {
    List<Views.Obj> items = new ArrayList<>();
    for (RouteConfig r : config.get().routes().values()) {
      items.add(
          Views.obj()
              .with("name", r.name())
              .with("from", r.from())
              .with("to", r.to())
              .with("when", text(r.when()))
              .with("transform", text(r.transform()))
              .with("ordering", r.ordering() == RouteConfig.Ordering.PER_KEY ? "per-key" : "none")
              .with("stale", lower(r.stale()))
              .with("onDead", lower(r.onDead()))
              .with(
                  "enrich",
                  r.enrich() == null
                      ? null
                      : Views.obj()
                          .with("using", r.enrich().using())
                          .with(r.enrich().path().key(), r.enrich().path().text())
                          .with("as", r.enrich().as())));
    }
    return Views.obj().with("items", items);
  }

  private static String text(Expression e) {
    return e == null ? null : e.text();
  }

  private static String lower(Enum<?> e) {
    return e == null ? null : e.name().toLowerCase(Locale.ROOT);
  }
}
