package dev.switchboard.faults;

import dev.switchboard.faults.FlappingDestination.Receipt;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The invariants of a fault scenario, checked against three independent records: the client's log
 * of 2xx answers, the store (events, deliveries, attempts) and the destination's log of the
 * requests it received and how it answered them.
 *
 * <ol>
 *   <li><b>stored once</b>: every 2xx'd event is in the store exactly once (by source and
 *       idempotency key), under the event id the 2xx named.
 *   <li><b>finished</b>: every delivery of a 2xx'd event is {@code delivered} or {@code dead}; each
 *       2xx'd event has at least one delivery.
 *   <li><b>received, same key</b>: every delivered delivery was answered 200 by the destination
 *       under its own id as {@code Idempotency-Key}; every event reached the destination under one
 *       key only (repeats carry the first send's key); no request carried an unknown key; nothing
 *       the destination answered 200 ended other than delivered.
 *   <li><b>not in flight</b>: no delivery is left {@code in_flight}.
 *   <li><b>no attempt while paused</b>: after a 429 with {@code Retry-After: N} answered at t, the
 *       same gateway (request path) sent nothing in (t + tolerance, t + N - tolerance).
 *   <li><b>no attempt while the breaker was open</b>: the breaker is replayed from the attempts
 *       table (same rules as dispatch.CircuitBreaker: {@code failures} retryable failures in a row
 *       open it for {@code openFor}, a failed probe reopens it, any success or 4xx refusal closes
 *       it; a restart closes it); no attempt may start in (opened + tolerance, openUntil -
 *       tolerance).
 * </ol>
 */
public final class InvariantChecker {
  /** A 2xx the client got: the idempotency key it sent, the event id and status answered. */
  public record Ack(String key, String eventId, int status) {}

  /** One invariant's verdict. */
  public record Verdict(String name, boolean held, String detail) {}

  /** What the checker needs to know about the setup. */
  public record Setup(
      String source,
      int breakerFailures,
      Duration breakerOpenFor,
      Duration tolerance,
      List<Long> restarts,
      boolean checkBreaker) {}

  public record Report(List<Verdict> verdicts, Map<String, Long> figures) {
    public boolean allHeld() {
      return verdicts.stream().allMatch(Verdict::held);
    }

    public String markdown() {
      StringBuilder sb = new StringBuilder();
      sb.append("| figure | value |\n|---|---|\n");
      figures.forEach((k, v) -> sb.append("| ").append(k).append(" | ").append(v).append(" |\n"));
      sb.append("\n| invariant | held | detail |\n|---|---|---|\n");
      for (Verdict v : verdicts) {
        sb.append("| ")
            .append(v.name())
            .append(" | ")
            .append(v.held() ? "yes" : "**NO**")
            .append(" | ")
            .append(v.detail().replace("|", "/"))
            .append(" |\n");
      }
      return sb.toString();
    }
  }

  record Delivery(String id, String eventId, String destination, String state, int attempts) {}

  record Attempt(
      String deliveryId,
      String destination,
      long startedAt,
      long durationMs,
      int status,
      String outcome) {
    long endedAt() {
      return startedAt + durationMs;
    }

    boolean breakerFailure() {
      if (outcome.equals("delivered")) {
        return false;
      }
      boolean refusal =
          status >= 400 && status < 500 && status != 408 && status != 425 && status != 429;
      return !refusal;
    }
  }

  private InvariantChecker() {}

  public static Connection connect(String jdbcUrl, String user, String password)
      throws SQLException {
    Properties login = new Properties();
    if (user != null) {
      login.setProperty("user", user);
      login.setProperty("password", password);
    }
    return DriverManager.getConnection(jdbcUrl, login);
  }

  /** Deliveries not yet delivered or dead. */
  public static long unfinished(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT COUNT(*) FROM deliveries"
                    + " WHERE state IN ('pending', 'in_flight', 'retry_scheduled')")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  public static Report check(
      Connection c, Setup setup, Map<String, Ack> acks, List<Receipt> receipts)
      throws SQLException {
    Map<String, List<String>> eventIdsByKey = new HashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement("SELECT idempotency_key, id FROM events WHERE source = ?")) {
      ps.setString(1, setup.source());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          eventIdsByKey
              .computeIfAbsent(rs.getString(1), k -> new ArrayList<>())
              .add(rs.getString(2));
        }
      }
    }
    Map<String, Delivery> deliveries = new HashMap<>();
    Map<String, List<Delivery>> deliveriesByEvent = new HashMap<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT id, event_id, destination, state, attempts FROM deliveries")) {
      while (rs.next()) {
        Delivery d =
            new Delivery(
                rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getInt(5));
        deliveries.put(d.id(), d);
        deliveriesByEvent.computeIfAbsent(d.eventId(), k -> new ArrayList<>()).add(d);
      }
    }
    List<Attempt> attempts = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT a.delivery_id, d.destination, a.started_at, a.duration_ms, a.status,"
                    + " a.outcome FROM attempts a JOIN deliveries d ON d.id = a.delivery_id"
                    + " ORDER BY a.started_at")) {
      while (rs.next()) {
        attempts.add(
            new Attempt(
                rs.getString(1),
                rs.getString(2),
                rs.getLong(3),
                rs.getLong(4),
                rs.getInt(5),
                rs.getString(6)));
      }
    }

    Map<String, Long> figures = new LinkedHashMap<>();
    List<Verdict> verdicts = new ArrayList<>();

    // (a) stored once
    long missing = 0;
    long duplicated = 0;
    long otherId = 0;
    List<String> samples = new ArrayList<>();
    for (Ack ack : acks.values()) {
      List<String> ids = eventIdsByKey.getOrDefault(ack.key(), List.of());
      if (ids.isEmpty()) {
        missing++;
        sample(samples, "missing " + ack.key());
      } else if (ids.size() > 1) {
        duplicated++;
        sample(samples, "duplicated " + ack.key());
      } else if (!ids.getFirst().equals(ack.eventId())) {
        otherId++;
        sample(samples, "other id " + ack.key());
      }
    }
    long duplicatedAnywhere = eventIdsByKey.values().stream().filter(l -> l.size() > 1).count();
    figures.put("events 2xx'd (distinct keys)", (long) acks.size());
    figures.put("events in the store", (long) eventIdsByKey.size());
    verdicts.add(
        new Verdict(
            "every 2xx'd event stored exactly once",
            missing + duplicated + otherId + duplicatedAnywhere == 0,
            "%d checked; missing %d, duplicated %d, under another id %d; keys stored twice (any) %d %s"
                .formatted(
                    acks.size(), missing, duplicated, otherId, duplicatedAnywhere, samples)));

    // (b) finished, (d) not in flight
    Map<String, Long> byState = new TreeMap<>();
    long noDelivery = 0;
    samples = new ArrayList<>();
    Set<String> ackedEventIds = new HashSet<>();
    for (Ack ack : acks.values()) {
      ackedEventIds.add(ack.eventId());
      List<Delivery> ds = deliveriesByEvent.getOrDefault(ack.eventId(), List.of());
      if (ds.isEmpty()) {
        noDelivery++;
        sample(samples, "no delivery for " + ack.key());
      }
      for (Delivery d : ds) {
        byState.merge(d.state(), 1L, Long::sum);
        if (!d.state().equals("delivered") && !d.state().equals("dead")) {
          sample(samples, d.state() + " " + d.id());
        }
      }
    }
    long notFinished =
        byState.entrySet().stream()
            .filter(e -> !e.getKey().equals("delivered") && !e.getKey().equals("dead"))
            .mapToLong(Map.Entry::getValue)
            .sum();
    byState.forEach((state, n) -> figures.put("deliveries " + state, n));
    verdicts.add(
        new Verdict(
            "every delivery of a 2xx'd event delivered or dead",
            notFinished == 0 && noDelivery == 0,
            "by state %s; events without a delivery %d %s"
                .formatted(byState, noDelivery, samples)));
    long inFlight = deliveries.values().stream().filter(d -> d.state().equals("in_flight")).count();
    verdicts.add(
        new Verdict(
            "nothing stuck in_flight (whole store)",
            inFlight == 0,
            "%d deliveries in_flight".formatted(inFlight)));

    // (c) at the destination
    Map<String, List<Receipt>> receiptsByKey = new HashMap<>();
    Map<String, Set<String>> keysByEvent = new TreeMap<>();
    long noKey = 0;
    for (Receipt r : receipts) {
      if (r.key() == null) {
        noKey++;
        continue;
      }
      receiptsByKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r);
      if (r.eventKey() != null) {
        keysByEvent.computeIfAbsent(r.eventKey(), k -> new TreeSet<>()).add(r.key());
      }
    }
    long delivered = 0;
    long deliveredNotReceived = 0;
    long okButNotDelivered = 0;
    long unknownKeys = 0;
    long repeats = 0;
    samples = new ArrayList<>();
    for (Delivery d : deliveries.values()) {
      if (d.state().equals("delivered")) {
        delivered++;
        boolean ok =
            receiptsByKey.getOrDefault(d.id(), List.of()).stream().anyMatch(r -> r.status() == 200);
        if (!ok) {
          deliveredNotReceived++;
          sample(samples, "delivered, never answered 200: " + d.id());
        }
      }
    }
    for (Map.Entry<String, List<Receipt>> e : receiptsByKey.entrySet()) {
      Delivery d = deliveries.get(e.getKey());
      if (d == null) {
        unknownKeys++;
        sample(samples, "unknown key " + e.getKey());
        continue;
      }
      repeats += e.getValue().size() - 1;
      boolean answeredOk = e.getValue().stream().anyMatch(r -> r.status() == 200);
      if (answeredOk && !d.state().equals("delivered")) {
        okButNotDelivered++;
        sample(samples, "answered 200 but " + d.state() + ": " + d.id());
      }
    }
    long changedKey = keysByEvent.values().stream().filter(s -> s.size() > 1).count();
    List<String> changedSamples = new ArrayList<>();
    keysByEvent.entrySet().stream()
        .filter(e -> e.getValue().size() > 1)
        .limit(3)
        .forEach(e -> changedSamples.add(e.getKey() + " under " + e.getValue()));
    long okReceipts = receipts.stream().filter(r -> r.status() == 200).count();
    figures.put("requests at the destination", (long) receipts.size());
    figures.put("requests answered 200", okReceipts);
    figures.put("repeats (same key sent again)", repeats);
    figures.put("delivered deliveries (whole store)", delivered);
    verdicts.add(
        new Verdict(
            "every delivered delivery received (answered 200) under its own key",
            deliveredNotReceived == 0 && okButNotDelivered == 0,
            "%d delivered; never answered 200: %d; answered 200 but not delivered: %d %s"
                .formatted(delivered, deliveredNotReceived, okButNotDelivered, samples)));
    verdicts.add(
        new Verdict(
            "repeats carry the first send's Idempotency-Key; no unknown or missing key",
            changedKey == 0 && unknownKeys == 0 && noKey == 0,
            "%d events seen, %d under more than one key; %d unknown keys; %d requests without key;"
                    .formatted(keysByEvent.size(), changedKey, unknownKeys, noKey)
                + " %d repeats %s".formatted(repeats, changedSamples)));

    // (e) pauses, from the destination's own log
    long tol = setup.tolerance().toMillis();
    long throttled = 0;
    long duringPause = 0;
    samples = new ArrayList<>();
    List<Receipt> byArrival = new ArrayList<>(receipts);
    byArrival.sort((x, y) -> Long.compare(x.arrivedAt(), y.arrivedAt()));
    for (Receipt t : receipts) {
      if (t.status() != 429 || t.retryAfterSeconds() <= 0) {
        continue;
      }
      throttled++;
      long from = t.answeredAt() + tol;
      long until = t.answeredAt() + t.retryAfterSeconds() * 1000L - tol;
      for (Receipt r : byArrival) {
        if (r.path().equals(t.path()) && r.arrivedAt() > from && r.arrivedAt() < until) {
          duringPause++;
          sample(
              samples,
              "request %d arrived %d ms into a %d s pause"
                  .formatted(r.seq(), r.arrivedAt() - t.answeredAt(), t.retryAfterSeconds()));
        }
      }
    }
    verdicts.add(
        new Verdict(
            "no request during a Retry-After pause (destination's log)",
            duringPause == 0,
            "%d answers 429 with Retry-After; %d requests inside a pause (tolerance %d ms) %s"
                .formatted(throttled, duringPause, tol, samples)));

    // (e) breaker, replayed from the attempts table
    if (setup.checkBreaker()) {
      BreakerReplay replay = replayBreaker(attempts, setup);
      verdicts.add(
          new Verdict(
              "no attempt started while the breaker was open (replayed from attempts)",
              replay.violations == 0,
              "%d attempts; breaker opened %d times; %d attempts inside an open window (tolerance %d ms) %s"
                  .formatted(
                      attempts.size(), replay.opened, replay.violations, tol, replay.samples)));
    }
    figures.put("attempts recorded", (long) attempts.size());
    return new Report(verdicts, figures);
  }

  static final class BreakerReplay {
    long opened;
    long violations;
    List<String> samples = new ArrayList<>();
  }

  /**
   * Replays each destination's breaker over the attempts in time order: a start is checked against
   * the state the ends before it produced.
   */
  static BreakerReplay replayBreaker(List<Attempt> attempts, Setup setup) {
    BreakerReplay out = new BreakerReplay();
    long tol = setup.tolerance().toMillis();
    long openFor = setup.breakerOpenFor().toMillis();
    Map<String, List<Attempt>> byDestination = new TreeMap<>();
    attempts.forEach(
        a -> byDestination.computeIfAbsent(a.destination(), k -> new ArrayList<>()).add(a));
    for (List<Attempt> list : byDestination.values()) {
      // events: (time, kind 0 = end, 1 = start, 2 = restart, attempt)
      record Ev(long at, int kind, Attempt a) {}
      List<Ev> evs = new ArrayList<>();
      for (Attempt a : list) {
        evs.add(new Ev(a.startedAt(), 1, a));
        evs.add(new Ev(a.endedAt(), 0, a));
      }
      setup.restarts().forEach(t -> evs.add(new Ev(t, 2, null)));
      evs.sort(
          (x, y) ->
              x.at() != y.at()
                  ? Long.compare(x.at(), y.at())
                  : Integer.compare(y.kind(), x.kind()));
      boolean open = false;
      long openedAt = 0;
      long openUntil = 0;
      boolean halfOpen = false;
      int failures = 0;
      for (Ev ev : evs) {
        switch (ev.kind()) {
          case 2 -> {
            open = false;
            halfOpen = false;
            failures = 0;
          }
          case 1 -> {
            if (open && ev.at() >= openUntil) {
              open = false;
              halfOpen = true;
            }
            if (open && ev.at() > openedAt + tol && ev.at() < openUntil - tol) {
              out.violations++;
              sample(
                  out.samples,
                  "attempt of %s started %d ms after the breaker opened for %d ms"
                      .formatted(ev.a().deliveryId(), ev.at() - openedAt, openFor));
            }
          }
          default -> {
            if (ev.a().breakerFailure()) {
              failures++;
              if (halfOpen || (!open && failures >= setup.breakerFailures())) {
                open = true;
                halfOpen = false;
                openedAt = ev.at();
                openUntil = ev.at() + openFor;
                out.opened++;
              }
            } else {
              open = false;
              halfOpen = false;
              failures = 0;
            }
          }
        }
      }
    }
    return out;
  }

  private static void sample(List<String> samples, String s) {
    if (samples.size() < 3) {
      samples.add(s);
    }
  }
}
