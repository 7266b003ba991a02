package dev.switchboard.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.cli.Main;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Releasing quarantined events against a real gateway on SQLite over real HTTP: the event is
 * checked again against its source's schema as it is now (after a configuration reload) and, if it
 * passes, delivered as if it had just arrived; what still fails stays quarantined with the new
 * reason.
 */
class QuarantineReleaseIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String TOKEN = "quarantine-it-admin-token";
  static final String STRICT =
      """
      {"type":"object","required":["formId"],"properties":{"formId":{"type":"string"}}}""";
  static final String FIXED =
      """
      {"type":"object","required":["formId"],"properties":{"formId":{"type":["string","integer"]}}}""";

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:05Z"));
  final FakeDestination crm = new FakeDestination();
  final FakeDestination ops = new FakeDestination();
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    crm.close();
    ops.close();
  }

  String config() {
    return """
        admin: { token: "%s" }
        sources:
          forms:
            verify: { scheme: none }
            schema: form.schema.json
            partition_key: formId
        routes:
          to-crm: { from: forms, to: crm }
          to-ops: { from: forms, to: ops, when: kind = "ops" }
        destinations:
          crm: { type: http, url: "%s", timeout: 5s }
          ops: { type: http, url: "%s", timeout: 5s }
        """
        .formatted(TOKEN, crm.uri("/in"), ops.uri("/in"));
  }

  void start() throws Exception {
    Files.writeString(dir.resolve("form.schema.json"), STRICT);
    gw = GatewayFixture.start(dir, config(), Map.of(), clock);
  }

  /** Writes the schema file anew and reloads the configuration through the admin API. */
  void reloadWithSchema(String schema) throws Exception {
    Files.writeString(dir.resolve("form.schema.json"), schema);
    HttpResponse<String> r = post("/api/v1/config/reload", null);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  String postForm(String json) throws Exception {
    HttpResponse<String> r = gw.post("forms", GatewayFixture.utf8(json), Map.of());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    JsonNode answer = JSON.readTree(r.body());
    assertThat(answer.path("status").asText()).isEqualTo("quarantined");
    return answer.path("eventId").asText();
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(gw.uri(path))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + TOKEN)
            .header("X-Switchboard-Actor", "ops-oncall")
            .POST(
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      r.header("Content-Type", "application/json");
    }
    return gw.send(r.build());
  }

  JsonNode ok(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  JsonNode event(String id) throws Exception {
    HttpResponse<String> r =
        gw.send(
            HttpRequest.newBuilder(gw.uri("/api/v1/events/" + id))
                .header("Authorization", "Bearer " + TOKEN)
                .GET()
                .build());
    return ok(r);
  }

  List<DeliveryRecord> deliveries(String eventId) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId));
  }

  void assertProblem(HttpResponse<String> r, int status, String code) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/problem+json");
    assertThat(JSON.readTree(r.body()).path("type").asText()).isEqualTo(Problem.TYPE_BASE + code);
  }

  @Test
  void aReleasedEventPassesTheReloadedSchemaAndIsDeliveredAtOnce() throws Exception {
    start();
    String id = postForm("{\"formId\":7,\"kind\":\"sales\"}");
    assertThat(deliveries(id)).isEmpty();

    reloadWithSchema(FIXED);
    JsonNode released = ok(post("/api/v1/events/" + id + "/release", null));
    assertThat(released.path("status").asText()).isEqualTo("accepted");
    assertThat(released.path("deliveries").asInt()).isEqualTo(2);

    await().atMost(Duration.ofSeconds(10)).until(() -> crm.requests().size() == 1);
    assertThat(JSON.readTree(crm.requests().get(0).bodyText()).path("formId").asInt()).isEqualTo(7);
    // the route filter is decided at release: kind is not "ops", so that delivery is skipped
    assertThat(deliveries(id))
        .extracting(DeliveryRecord::route, DeliveryRecord::state)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("to-crm", DeliveryState.DELIVERED),
            org.assertj.core.groups.Tuple.tuple("to-ops", DeliveryState.SKIPPED));
    assertThat(ops.requests()).isEmpty();
    assertThat(deliveries(id).get(0).partitionKey()).isEqualTo("7");

    JsonNode shown = event(id);
    assertThat(shown.path("status").asText()).isEqualTo("accepted");
    assertThat(shown.path("quarantineReason").isNull()).isTrue();
    assertThat(shown.path("releasedBy").asText()).isEqualTo("admin-api:ops-oncall");
    assertThat(shown.path("releasedAt").asText()).isEqualTo("2026-10-27T14:30:05Z");

    // a second release finds nothing to release; an unknown event is unknown
    assertProblem(post("/api/v1/events/" + id + "/release", null), 409, "not_releasable");
    assertProblem(
        post("/api/v1/events/evt_00000000000000000000000000000000/release", null),
        404,
        "unknown_event");
    assertThat(crm.requests()).hasSize(1);
  }

  @Test
  void aCoercionAddedToTheSourceAppliesToTheEventsItReleases() throws Exception {
    start();
    // the sender drifted: formId arrives as a number where the schema wants text
    String id = postForm("{\"formId\":7,\"kind\":\"sales\"}");

    Path file = dir.resolve("switchboard.yaml");
    String yaml = Files.readString(file);
    assertThat(yaml).contains("    partition_key: formId\n");
    Files.writeString(
        file,
        yaml.replace(
            "    partition_key: formId\n",
            "    partition_key: formId\n    coerce: { formId: string }\n"));
    HttpResponse<String> reloaded = post("/api/v1/config/reload", null);
    assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);

    JsonNode released = ok(post("/api/v1/events/" + id + "/release", null));
    assertThat(released.path("status").asText()).as(released.toString()).isEqualTo("accepted");
    await().atMost(Duration.ofSeconds(10)).until(() -> crm.requests().size() == 1);
    JsonNode sent = JSON.readTree(crm.requests().get(0).bodyText());
    assertThat(sent.path("formId").isTextual()).as(sent.toString()).isTrue();
    assertThat(sent.path("formId").asText()).isEqualTo("7");
  }

  @Test
  void anEventThatStillFailsStaysQuarantinedWithTheNewReason() throws Exception {
    start();
    String id = postForm("{\"formId\":7}");
    assertThat(event(id).path("quarantineReason").asText()).contains("formId");

    reloadWithSchema(
        """
        {"type":"object","required":["formId","email"],"properties":{"formId":{"type":"integer"}}}""");
    JsonNode answer = ok(post("/api/v1/events/" + id + "/release", null));
    assertThat(answer.path("status").asText()).isEqualTo("quarantined");
    assertThat(answer.path("quarantineReason").asText()).contains("email").doesNotContain("string");

    JsonNode shown = event(id);
    assertThat(shown.path("status").asText()).isEqualTo("quarantined");
    assertThat(shown.path("quarantineReason").asText()).contains("email");
    assertThat(shown.path("releasedBy").isNull()).isTrue();
    assertThat(deliveries(id)).isEmpty();
    assertThat(crm.requests()).isEmpty();
  }

  @Test
  void bulkReleaseBySourceAndTimeRangeCountsFirstThenReleasesOnlyTheMatches() throws Exception {
    start();
    List<String> early = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      early.add(postForm("{\"formId\":" + i + "}"));
    }
    early.add(postForm("{\"other\":true}")); // still fails under the fixed schema
    clock.advance(Duration.ofHours(2));
    String late = postForm("{\"formId\":99}");
    reloadWithSchema(FIXED);

    String range =
        "\"source\":\"forms\",\"from\":\"2026-10-27T14:00:00Z\",\"to\":\"2026-10-27T15:00:00Z\"";
    JsonNode dry = ok(post("/api/v1/quarantine/release", "{" + range + ",\"dryRun\":true}"));
    assertThat(dry.path("dryRun").asBoolean()).isTrue();
    assertThat(dry.path("matched").asLong()).isEqualTo(4);
    assertThat(deliveries(early.get(0))).isEmpty();

    JsonNode done = ok(post("/api/v1/quarantine/release", "{" + range + "}"));
    assertThat(done.path("dryRun").asBoolean()).isFalse();
    assertThat(done.path("matched").asLong()).isEqualTo(4);
    assertThat(done.path("released").asLong()).isEqualTo(3);
    assertThat(done.path("stillQuarantined").asLong()).isEqualTo(1);

    await().atMost(Duration.ofSeconds(10)).until(() -> crm.requests().size() == 3);
    assertThat(event(early.get(3)).path("status").asText()).isEqualTo("quarantined");
    assertThat(event(late).path("status").asText()).isEqualTo("quarantined");
    assertThat(deliveries(late)).isEmpty();

    // a bulk release names a source
    assertProblem(post("/api/v1/quarantine/release", "{\"dryRun\":true}"), 400, "invalid_body");
  }

  @Test
  void concurrentReleasesOfOneEventCreateItsDeliveriesOnce() throws Exception {
    start();
    String id = postForm("{\"formId\":5}");
    reloadWithSchema(FIXED);
    List<Callable<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      calls.add(() -> post("/api/v1/events/" + id + "/release", null).statusCode());
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Integer> statuses = new ArrayList<>();
    try {
      for (Future<Integer> f : pool.invokeAll(calls)) {
        statuses.add(f.get());
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(statuses).containsOnly(200, 409);
    assertThat(statuses).filteredOn(s -> s == 200).hasSize(1);
    assertThat(deliveries(id)).hasSize(2);
    await().atMost(Duration.ofSeconds(10)).until(() -> crm.requests().size() == 1);
    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(2))
        .until(() -> crm.requests().size() == 1);
  }

  @Test
  void theCliReleasesOneEventOrCountsAndReleasesInBulk() throws Exception {
    start();
    String one = postForm("{\"formId\":1}");
    String two = postForm("{\"formId\":2}");
    String three = postForm("{\"formId\":3}");
    reloadWithSchema(FIXED);

    String[] single = cli("events", "release", one);
    assertThat(single[0]).as(single[2]).isEqualTo("0");
    assertThat(single[1]).contains("released " + one).contains("2 delivery(ies)");

    String[] again = cli("events", "release", one);
    assertThat(again[0]).isEqualTo("1");
    assertThat(again[2]).contains("not_releasable");

    String[] dry =
        cli(
            "events",
            "release",
            "--source",
            "forms",
            "--from",
            "2026-10-27T14:00:00Z",
            "--dry-run");
    assertThat(dry[0]).as(dry[2]).isEqualTo("0");
    assertThat(dry[1]).contains("would release 2 event(s)");
    assertThat(deliveries(two)).isEmpty();

    String[] bulk = cli("events", "release", "--source", "forms", "--from", "2026-10-27T14:00:00Z");
    assertThat(bulk[0]).as(bulk[2]).isEqualTo("0");
    assertThat(bulk[1]).contains("released 2 event(s)").contains("0 still quarantined");
    assertThat(deliveries(two)).hasSize(2);
    assertThat(deliveries(three)).hasSize(2);
    await().atMost(Duration.ofSeconds(10)).until(() -> crm.requests().size() == 3);
  }

  /** Runs {@code switchboard args…} against the gateway; exit code, out, err. */
  String[] cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(new Main());
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--url", gw.uri("").toString(), "--token", TOKEN, "--as", "cli-test"));
    int exit = cmd.execute(all.toArray(String[]::new));
    return new String[] {Integer.toString(exit), out.toString(), err.toString()};
  }
}
