package dev.switchboard.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Configuration reload through the admin API against a real gateway on SQLite, with fake
 * destinations on 127.0.0.1: what changes takes effect for the next events, a bad file changes
 * nothing, and reloads under load lose or repeat no delivery.
 */
class ReloadIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SECRET = "reload-it-secret";
  static final String TOKEN = "reload-it-admin-token";
  static final AtomicInteger SEQ = new AtomicInteger();

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:05Z"));
  final FakeDestination crm = new FakeDestination();
  final FakeDestination other = new FakeDestination();
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    crm.close();
    other.close();
  }

  /** The file the gateway runs on: the fixture's server and store, then {@code rest}. */
  String full(String rest) {
    return "server:\n  host: 127.0.0.1\n  port: 0\nstore:\n  path: "
        + dir.resolve("switchboard.db")
        + "\n"
        + rest;
  }

  String sourceAndAdmin() {
    return """
        admin: { token: "%s" }
        sources:
          calls:
            verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["%s"] }
            idempotency: { key: interactionId }
        """
        .formatted(TOKEN, SECRET);
  }

  void start(String routesAndDestinations) throws Exception {
    gw = GatewayFixture.start(dir, sourceAndAdmin() + routesAndDestinations, Map.of(), clock);
  }

  void rewrite(String text) throws Exception {
    Files.writeString(dir.resolve("switchboard.yaml"), text);
  }

  HttpResponse<String> reload() throws Exception {
    return gw.send(
        HttpRequest.newBuilder(gw.uri("/api/v1/config/reload"))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + TOKEN)
            .POST(HttpRequest.BodyPublishers.noBody())
            .build());
  }

  HttpResponse<String> post(String interactionId, String code) throws Exception {
    byte[] body =
        GatewayFixture.utf8(
            """
            {"interactionId":"%s","timestamp":"2026-10-27T14:30:00Z","disposition":{"code":"%s"}}"""
                .formatted(interactionId, code));
    return gw.post("calls", body, Map.of("X-Genesys-Signature", Hmac.sha256Hex(SECRET, body)));
  }

  static String interactionId(FakeDestination.Request r) {
    try {
      return JSON.readTree(r.bodyText()).path("interactionId").asText();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static Set<String> interactionIds(FakeDestination fake) {
    return fake.requests().stream().map(ReloadIT::interactionId).collect(Collectors.toSet());
  }

  static String destinations(URI crmUri, String extra) {
    return """
        destinations:
          crm:
            type: http
            url: "%s"
            timeout: 5s
        """
            .formatted(crmUri)
        + extra;
  }

  @Test
  void aChangedFilterAndANewDestinationTakeEffectForTheNextEvents() throws Exception {
    String before =
        """
        routes:
          to-crm: { from: calls, to: crm, when: disposition.code = "RESOLVED" }
        """
            + destinations(crm.uri("/in"), "");
    start(before);
    assertThat(post("a-1", "RESOLVED").statusCode()).isEqualTo(202);
    assertThat(post("a-2", "PENDING").statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> interactionIds(crm).contains("a-1"));

    rewrite(
        full(
            sourceAndAdmin()
                + """
                routes:
                  to-crm: { from: calls, to: crm, when: disposition.code = "PENDING" }
                  to-other: { from: calls, to: other }
                """
                + destinations(
                    crm.uri("/in"),
                    """
                      other:
                        type: http
                        url: "%s"
                    """
                        .formatted(other.uri("/other")))));
    HttpResponse<String> r = reload();
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode changes = JSON.readTree(r.body());
    assertThat(changes.at("/routes/changed").toString()).isEqualTo("[\"to-crm\"]");
    assertThat(changes.at("/routes/added").toString()).isEqualTo("[\"to-other\"]");
    assertThat(changes.at("/destinations/added").toString()).isEqualTo("[\"other\"]");
    assertThat(changes.at("/destinations/changed").toString()).isEqualTo("[]");
    assertThat(changes.at("/warnings").toString()).isEqualTo("[]");

    assertThat(post("b-1", "PENDING").statusCode()).isEqualTo(202);
    assertThat(post("b-2", "RESOLVED").statusCode()).isEqualTo(202);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(interactionIds(crm)).containsExactlyInAnyOrder("a-1", "b-1");
              assertThat(interactionIds(other)).containsExactlyInAnyOrder("b-1", "b-2");
            });
    // the admin API shows the running configuration
    HttpResponse<String> routes =
        gw.send(
            HttpRequest.newBuilder(gw.uri("/api/v1/routes"))
                .header("Authorization", "Bearer " + TOKEN)
                .build());
    assertThat(routes.body()).contains("to-other").contains("PENDING");
  }

  @Test
  void aBadFileKeepsTheRunningConfigurationAndSaysWhy() throws Exception {
    String good =
        """
        routes:
          to-crm: { from: calls, to: crm }
        """
            + destinations(crm.uri("/in"), "");
    start(good);

    rewrite(full(sourceAndAdmin() + "routes:\n  to-crm: { from: calls, to: crm\n"));
    HttpResponse<String> syntax = reload();
    assertThat(syntax.statusCode()).as(syntax.body()).isEqualTo(422);
    assertThat(syntax.headers().firstValue("Content-Type")).contains("application/problem+json");
    JsonNode problem = JSON.readTree(syntax.body());
    assertThat(problem.path("type").asText()).endsWith("/invalid_config");
    assertThat(problem.path("problems")).isNotEmpty();
    assertThat(problem.at("/problems/0/line").asInt()).isPositive();

    rewrite(
        full(
            sourceAndAdmin()
                + """
                routes:
                  to-crm: { from: calls, to: crm }
                  to-nowhere: { from: calls, to: nowhere }
                """
                + destinations(crm.uri("/in"), "")));
    HttpResponse<String> unknown = reload();
    assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(422);
    JsonNode problems = JSON.readTree(unknown.body()).path("problems");
    assertThat(problems).hasSize(1);
    assertThat(problems.get(0).path("path").asText()).isEqualTo("routes.to-nowhere.to");
    assertThat(problems.get(0).path("line").asInt()).isPositive();
    assertThat(problems.get(0).path("file").asText()).endsWith("switchboard.yaml");
    assertThat(unknown.body()).doesNotContain(SECRET).doesNotContain(TOKEN);

    // the old configuration still serves, with one route only
    assertThat(post("c-1", "RESOLVED").statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> interactionIds(crm).contains("c-1"));
    assertThat(gw.gateway().config().routes().keySet()).containsExactly("to-crm");
  }

  @Test
  void aStoreOrPortChangeIsReportedForTheNextStartAndTheRestIsApplied() throws Exception {
    start(
        """
        routes:
          to-crm: { from: calls, to: crm }
        """
            + destinations(crm.uri("/in"), ""));
    String changed =
        "server:\n  host: 127.0.0.1\n  port: 18081\nstore:\n  path: "
            + dir.resolve("elsewhere.db")
            + "\n"
            + sourceAndAdmin()
            + """
            routes:
              to-crm: { from: calls, to: crm, when: disposition.code = "RESOLVED" }
            """
            + destinations(crm.uri("/in"), "");
    rewrite(changed);
    HttpResponse<String> r = reload();
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode result = JSON.readTree(r.body());
    List<String> warnings = new ArrayList<>();
    result.path("warnings").forEach(w -> warnings.add(w.asText()));
    assertThat(warnings)
        .containsExactlyInAnyOrder(
            "store.path changed: takes effect after a restart",
            "server.port changed: takes effect after a restart");
    assertThat(result.at("/routes/changed/0").asText()).isEqualTo("to-crm");
    // the store and the listener are the running ones; the route is the new one
    assertThat(gw.gateway().config().server().port()).isZero();
    assertThat(gw.gateway().config().store().path()).endsWith("switchboard.db");
    assertThat(post("d-1", "PENDING").statusCode()).isEqualTo(202);
    assertThat(post("d-2", "RESOLVED").statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> interactionIds(crm).contains("d-2"));
    assertThat(interactionIds(crm)).doesNotContain("d-1");
    assertThat(Files.exists(dir.resolve("elsewhere.db"))).isFalse();
  }

  @Test
  void aRemovedDestinationsDeliveriesWaitInTheStoreAndResumeWhenItComesBack() throws Exception {
    String withCrm =
        """
        routes:
          to-crm: { from: calls, to: crm }
        """
            + destinations(crm.uri("/in"), "    rate_limit: 1/hour\n");
    start(withCrm);
    for (String id : List.of("r-1", "r-2", "r-3")) {
      assertThat(post(id, "RESOLVED").statusCode()).isEqualTo(202);
    }
    // the rate limit lets one through; the clock stands still, so the others wait
    await().atMost(Duration.ofSeconds(10)).until(() -> crm.requests().size() == 1);

    rewrite(full(sourceAndAdmin()));
    HttpResponse<String> removed = reload();
    assertThat(removed.statusCode()).as(removed.body()).isEqualTo(200);
    assertThat(JSON.readTree(removed.body()).at("/destinations/removed/0").asText())
        .isEqualTo("crm");
    HttpResponse<String> status =
        gw.send(
            HttpRequest.newBuilder(gw.uri("/api/v1/destinations/crm"))
                .header("Authorization", "Bearer " + TOKEN)
                .build());
    assertThat(status.statusCode()).as(status.body()).isEqualTo(200);
    JsonNode crmStatus = JSON.readTree(status.body());
    assertThat(crmStatus.path("available").asBoolean()).isFalse();
    assertThat(crmStatus.path("unavailableReason").asText()).contains("removed");
    assertThat(crmStatus.path("queueDepth").asLong()).isEqualTo(2);
    assertThat(gw.gateway().store().countUnfinishedDeliveries()).isEqualTo(2);

    rewrite(
        full(
            sourceAndAdmin()
                + """
                routes:
                  to-crm: { from: calls, to: crm }
                """
                + destinations(crm.uri("/in"), "")));
    HttpResponse<String> back = reload();
    assertThat(back.statusCode()).as(back.body()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> assertThat(interactionIds(crm)).containsExactlyInAnyOrder("r-1", "r-2", "r-3"));
    assertThat(crm.requests()).hasSize(3);
  }

  /** {@code switchboard ARGS --url … --token …} in this JVM: exit code, stdout, stderr. */
  String[] cli(String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cmd = new picocli.CommandLine(new dev.switchboard.cli.Main());
    cmd.setOut(new java.io.PrintWriter(out, true));
    cmd.setErr(new java.io.PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--url", gw.uri("").toString(), "--token", TOKEN));
    int exit = cmd.execute(all.toArray(String[]::new));
    return new String[] {Integer.toString(exit), out.toString(), err.toString()};
  }

  @Test
  void theReloadCommandPrintsWhatChangedOrEveryProblem() throws Exception {
    String routes =
        """
        routes:
          to-crm: { from: calls, to: crm }
        """;
    start(routes + destinations(crm.uri("/in"), ""));
    rewrite(
        full(
            sourceAndAdmin()
                + routes
                + "  to-nowhere: { from: calls, to: nowhere }\n"
                + destinations(crm.uri("/in"), "")));
    String[] bad = cli("reload");
    assertThat(bad[0]).as(bad[2]).isEqualTo("1");
    assertThat(bad[2]).contains("invalid_config").contains("routes.to-nowhere.to");
    rewrite(
        full(
            sourceAndAdmin()
                + routes
                + "  to-crm-too: { from: calls, to: crm }\n"
                + destinations(crm.uri("/in"), "")));
    String[] ok = cli("reload");
    assertThat(ok[0]).as(ok[2]).isEqualTo("0");
    assertThat(ok[1]).contains("routes added: to-crm-too");
  }

  @Test
  void reloadsUnderLoadDeliverEveryAcceptedEventExactlyOnce() throws Exception {
    // each answer takes a little while, so attempts are in flight on a connector being replaced
    for (int i = 0; i < 5_000; i++) {
      crm.answer(FakeDestination.Answer.status(200).after(Duration.ofMillis(20)));
    }
    Function<Integer, String> version =
        v ->
            """
            routes:
              to-crm:
                from: calls
                to: crm
                transform: '$merge([$, {"version": %d}])'
            destinations:
              crm:
                type: http
                url: "%s"
                timeout: %ds
                concurrency: %d
            """
                .formatted(v, crm.uri("/in"), 5 + v, 4 + 4 * v);
    start(version.apply(0));
    Map<String, Boolean> acked = new ConcurrentHashMap<>();
    AtomicBoolean sending = new AtomicBoolean(true);
    List<Integer> refusals = new ArrayList<>();
    try (ExecutorService senders = Executors.newFixedThreadPool(4)) {
      List<Future<?>> running = new ArrayList<>();
      for (int s = 0; s < 4; s++) {
        running.add(
            senders.submit(
                () -> {
                  while (sending.get()) {
                    String id = "load-" + SEQ.incrementAndGet();
                    HttpResponse<String> r = post(id, "RESOLVED");
                    if (r.statusCode() / 100 == 2) {
                      acked.put(id, true);
                    } else {
                      synchronized (refusals) {
                        refusals.add(r.statusCode());
                      }
                    }
                  }
                  return null;
                }));
      }
      for (int i = 1; i <= 12; i++) {
        int before = acked.size();
        await().atMost(Duration.ofSeconds(10)).until(() -> acked.size() >= before + 20);
        rewrite(full(sourceAndAdmin() + version.apply(i % 2)));
        HttpResponse<String> r = reload();
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).at("/destinations/changed/0").asText()).isEqualTo("crm");
      }
      sending.set(false);
      for (Future<?> f : running) {
        f.get();
      }
    }
    assertThat(refusals).as("every request was accepted").isEmpty();
    assertThat(acked).hasSizeGreaterThan(240);
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(interactionIds(crm)).containsAll(acked.keySet()));
    Map<String, Long> sends =
        crm.requests().stream()
            .collect(Collectors.groupingBy(ReloadIT::interactionId, Collectors.counting()));
    assertThat(sends.entrySet().stream().filter(e -> e.getValue() > 1).toList())
        .as("sent more than once")
        .isEmpty();
    assertThat(sends.keySet()).isEqualTo(acked.keySet());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> gw.gateway().store().countUnfinishedDeliveries() == 0);
  }
}
