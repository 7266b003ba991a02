package dev.switchboard.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The admin REST API against a real gateway on SQLite over real HTTP, with scripted fake
 * destinations and a {@link MutableClock} that only the test moves.
 */
class AdminApiIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String TOKEN = "t0ken-for-tests-only";
  static final String SECRET = "webhook-s3cret";
  static final AtomicInteger SEQ = new AtomicInteger();

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

  void start() throws Exception {
    start("admin: { token: \"${ADMIN_TOKEN}\" }\n");
  }

  void start(String adminSection) throws Exception {
    Files.writeString(
        dir.resolve("form.schema.json"),
        """
        {"type":"object","required":["formId"],"properties":{"formId":{"type":"string"}}}""");
    String yaml =
        adminSection
            + """
            sources:
              calls:
                verify: { scheme: hmac-sha256-hex, header: X-Signature, secrets: ["${SECRET}"] }
                idempotency: { key: interactionId & '|' & timestamp }
                event_time: timestamp
                partition_key: interactionId
                redact:
                  remove: [recordingUrl]
                  mask: [contact.phoneNumber]
              forms:
                verify: { scheme: none }
                schema: form.schema.json
            routes:
              to-crm: { from: calls, to: crm }
              to-ops: { from: calls, to: ops, transform: '{"call": interactionId}' }
            destinations:
              crm:
                type: http
                url: ${CRM}
                retry: { initial: 1s, max_delay: 1s }
              ops:
                type: http
                url: ${OPS}
            """;
    gw =
        GatewayFixture.start(
            dir,
            yaml,
            Map.of(
                "ADMIN_TOKEN",
                TOKEN,
                "SECRET",
                SECRET,
                "CRM",
                crm.uri("/in").toString(),
                "OPS",
                ops.uri("/in").toString()),
            clock);
  }

  // ------------------------------------------------------------------ helpers

  HttpResponse<String> call(String method, String path, String authorization, String body)
      throws Exception {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(gw.uri(path))
            .timeout(Duration.ofSeconds(20))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      r.header("Authorization", authorization);
    }
    if (body != null) {
      r.header("Content-Type", "application/json");
    }
    r.header("X-Switchboard-Actor", "ops-oncall");
    return gw.send(r.build());
  }

  JsonNode get(String path) throws Exception {
    HttpResponse<String> r = call("GET", path, "Bearer " + TOKEN, null);
    assertThat(r.statusCode()).as(path + " " + r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
    return JSON.readTree(r.body());
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return call("POST", path, "Bearer " + TOKEN, body);
  }

  JsonNode problem(HttpResponse<String> r, int status, String code) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/problem+json");
    JsonNode p = JSON.readTree(r.body());
    assertThat(p.path("type").asText()).isEqualTo(Problem.TYPE_BASE + code);
    assertThat(p.path("status").asInt()).isEqualTo(status);
    assertThat(p.path("title").asText()).isNotBlank();
    return p;
  }

  static String q(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  /** Posts a signed call event; returns its event id. */
  String postCall(String interactionId, String extraJson) throws Exception {
    byte[] body =
        GatewayFixture.utf8(
            "{\"interactionId\":\"%s\",\"timestamp\":\"2026-10-27T14:30:00Z\"%s}"
                .formatted(interactionId, extraJson));
    HttpResponse<String> r =
        gw.post("calls", body, Map.of("X-Signature", Hmac.sha256Hex(SECRET, body)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  String postCall() throws Exception {
    return postCall("i-" + SEQ.incrementAndGet(), "");
  }

  DeliveryRecord delivery(String eventId, String destination) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).stream()
        .filter(d -> d.destination().equals(destination))
        .findFirst()
        .orElseThrow();
  }

  DeliveryState state(String eventId, String destination) {
    return delivery(eventId, destination).state();
  }

  List<String> apiEndpoints() {
    return gw.gateway().httpEndpoints().stream()
        .filter(e -> e.startsWith("GET /api/v1/") || e.startsWith("POST /api/v1/"))
        .toList();
  }

  // ------------------------------------------------------------------ tests

  @Test
  void everyRouteAnswers401WithoutOrWithAWrongTokenAndRevealsNothing() throws Exception {
    start();
    String eventId = postCall();
    String deliveryId = delivery(eventId, "crm").id().value();
    List<String> endpoints = new ArrayList<>(apiEndpoints());
    endpoints.remove("GET " + AdminRoutes.OPENAPI_PATH);
    endpoints.add("GET /api/v1/no-such-thing");
    endpoints.add("POST /api/v1/events/" + eventId);
    assertThat(endpoints).hasSizeGreaterThanOrEqualTo(18);
    List<String> wrong =
        java.util.Arrays.asList(
            null,
            "",
            "Bearer",
            "Bearer ",
            "Bearer wrong",
            "Bearer " + TOKEN + "x",
            "Bearer " + TOKEN.substring(1),
            "Basic " + TOKEN,
            TOKEN);
    for (String endpoint : endpoints) {
      String method = endpoint.substring(0, endpoint.indexOf(' '));
      String path =
          endpoint
              .substring(endpoint.indexOf(' ') + 1)
              .replace("{name}", "crm")
              .replace("{id}", path(endpoint).contains("/events/") ? eventId : deliveryId);
      for (String authorization : wrong) {
        HttpResponse<String> r =
            call(method, path, authorization, method.equals("POST") ? "{\"all\":true}" : null);
        problem(r, 401, "unauthorized");
        assertThat(r.headers().firstValue("WWW-Authenticate"))
            .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(r.body())
            .as(endpoint)
            .doesNotContain(eventId, deliveryId, "crm", "i-", TOKEN, SECRET);
      }
    }
    // nothing happened: the pause and the bulk actions were refused before any handler ran
    assertThat(get("/api/v1/destinations/crm").path("paused").asBoolean()).isFalse();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> state(eventId, "crm") == DeliveryState.DELIVERED);
    // with the token, an unknown path is a plain not_found
    problem(call("GET", "/api/v1/no-such-thing", "Bearer " + TOKEN, null), 404, "not_found");
    // and the document needs no token
    assertThat(call("GET", AdminRoutes.OPENAPI_PATH, null, null).statusCode()).isEqualTo(200);
  }

  private static String path(String endpoint) {
    return endpoint.substring(endpoint.indexOf(' ') + 1);
  }

  @Test
  void withoutAConfiguredTokenTheAdminApiIsOff() throws Exception {
    start("");
    problem(call("GET", "/api/v1/destinations", "Bearer anything", null), 404, "admin_disabled");
    problem(call("GET", "/api/v1/destinations", null, null), 404, "admin_disabled");
  }

  @Test
  void searchFiltersAndPagesOverThousandsOfEvents() throws Exception {
    start();
    int total = 3_000;
    Instant base = Instant.parse("2026-10-26T00:00:00Z");
    List<CompletableFuture<IngestOutcome>> writes = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      Instant at = base.plusSeconds(i / 4); // four events share each second: ties break by id
      boolean quarantined = i % 100 == 0;
      writes.add(
          gw.gateway()
              .store()
              .ingest(
                  new NewEvent(
                      i % 3 == 0 ? "forms" : "calls",
                      "key-" + i,
                      at.plus(Duration.ofDays(2)),
                      at,
                      "conv-" + (i % 40),
                      at,
                      "{\"n\":" + i + ",\"agent\":\"" + (i % 97 == 5 ? "Zoe Needle" : "Al") + "\"}",
                      Map.of(),
                      quarantined ? EventStatus.QUARANTINED : EventStatus.ACCEPTED,
                      quarantined ? "$.formId: required" : null,
                      List.of())));
    }
    Map<String, Integer> numberOf = new java.util.HashMap<>();
    for (int i = 0; i < total; i++) {
      numberOf.put(writes.get(i).get().eventId().value(), i);
    }

    List<JsonNode> everything = pageAll("/api/v1/events?limit=500");
    assertThat(everything).hasSize(total);
    assertThat(everything.stream().map(e -> e.path("id").asText()).distinct()).hasSize(total);
    for (int i = 1; i < everything.size(); i++) {
      JsonNode before = everything.get(i - 1);
      JsonNode after = everything.get(i);
      int time = before.path("receivedAt").asText().compareTo(after.path("receivedAt").asText());
      assertThat(
              time > 0
                  || (time == 0
                      && before.path("id").asText().compareTo(after.path("id").asText()) > 0))
          .as("newest first at %d", i)
          .isTrue();
    }

    assertThat(numbers(pageAll("/api/v1/events?source=forms&limit=333"), numberOf))
        .isEqualTo(expected(total, i -> i % 3 == 0));
    assertThat(numbers(pageAll("/api/v1/events?partitionKey=conv-7&limit=17"), numberOf))
        .isEqualTo(expected(total, i -> i % 40 == 7));
    assertThat(numbers(pageAll("/api/v1/events?idempotencyKey=key-1234"), numberOf))
        .containsExactly(1234);
    assertThat(numbers(pageAll("/api/v1/events?status=quarantined"), numberOf))
        .isEqualTo(expected(total, i -> i % 100 == 0));
    String from = base.plusSeconds(100).toString();
    String to = base.plusSeconds(200).toString();
    assertThat(
            numbers(pageAll("/api/v1/events?from=" + from + "&to=" + to + "&limit=64"), numberOf))
        .isEqualTo(expected(total, i -> i / 4 >= 100 && i / 4 < 200));
    assertThat(numbers(pageAll("/api/v1/events?q=needle&limit=10"), numberOf))
        .isEqualTo(expected(total, i -> i % 97 == 5));
    assertThat(
            numbers(
                pageAll(
                    "/api/v1/events?source=calls&partitionKey=conv-5&q=" + q("Zoe N") + "&limit=3"),
                numberOf))
        .isEqualTo(expected(total, i -> i % 3 != 0 && i % 40 == 5 && i % 97 == 5));
    assertThat(pageAll("/api/v1/quarantine?source=forms"))
        .hasSize(10)
        .allSatisfy(e -> assertThat(e.path("quarantineReason").asText()).contains("formId"));

    problem(
        call("GET", "/api/v1/events?cursor=bm9wZQ", "Bearer " + TOKEN, null),
        400,
        "invalid_cursor");
    problem(
        call("GET", "/api/v1/events?sorce=forms", "Bearer " + TOKEN, null),
        400,
        "invalid_parameter");
    problem(
        call("GET", "/api/v1/events?limit=0", "Bearer " + TOKEN, null), 400, "invalid_parameter");
    problem(
        call("GET", "/api/v1/events?limit=501", "Bearer " + TOKEN, null), 400, "invalid_parameter");
    problem(
        call("GET", "/api/v1/events?status=dead", "Bearer " + TOKEN, null),
        400,
        "invalid_parameter");
    JsonNode bad =
        problem(
            call("GET", "/api/v1/events?from=yesterday", "Bearer " + TOKEN, null),
            400,
            "invalid_parameter");
    assertThat(bad.path("detail").asText()).startsWith("from:").doesNotContain("yesterday");
    problem(
        call(
            "GET",
            "/api/v1/dead-letters?to=%2B1000000000-12-31T23:59:59Z",
            "Bearer " + TOKEN,
            null),
        400,
        "invalid_parameter");
    problem(
        call("GET", "/api/v1/events?from=" + to + "&to=" + from, "Bearer " + TOKEN, null),
        400,
        "invalid_parameter");
  }

  /** Follows nextCursor to the end; fails if a page repeats or paging does not end. */
  List<JsonNode> pageAll(String first) throws Exception {
    List<JsonNode> items = new ArrayList<>();
    Set<String> cursors = new HashSet<>();
    String path = first;
    while (true) {
      JsonNode page = get(path);
      page.path("items").forEach(items::add);
      JsonNode next = page.path("nextCursor");
      if (next.isNull()) {
        return items;
      }
      assertThat(cursors.add(next.asText())).as("a cursor repeats").isTrue();
      path = first + (first.contains("?") ? "&" : "?") + "cursor=" + q(next.asText());
    }
  }

  static Set<Integer> numbers(List<JsonNode> items, Map<String, Integer> numberOf) {
    Set<Integer> result = new TreeSet<>();
    for (JsonNode e : items) {
      assertThat(result.add(numberOf.get(e.path("id").asText()))).as("seen twice").isTrue();
    }
    return result;
  }

  static Set<Integer> expected(int total, java.util.function.IntPredicate match) {
    Set<Integer> result = new TreeSet<>();
    for (int i = 0; i < total; i++) {
      if (match.test(i)) {
        result.add(i);
      }
    }
    return result;
  }

  @Test
  void eventDetailShowsTheRedactedPayloadAndEveryAttempt() throws Exception {
    crm.answer(Answer.status(500).body("boom-1"), Answer.status(503).body("boom-2"));
    start();
    String eventId =
        postCall(
            "i-detail",
            ",\"contact\":{\"phoneNumber\":\"+15550100199\"},\"recordingUrl\":\"https://rec/1\"");
    await().atMost(Duration.ofSeconds(5)).until(() -> crm.requests().size() == 1);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> state(eventId, "crm") == DeliveryState.RETRY_SCHEDULED);
    clock.advance(Duration.ofSeconds(2));
    await().atMost(Duration.ofSeconds(5)).until(() -> crm.requests().size() == 2);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> state(eventId, "crm") == DeliveryState.RETRY_SCHEDULED);
    clock.advance(Duration.ofSeconds(2));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> state(eventId, "crm") == DeliveryState.DELIVERED);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> state(eventId, "ops") == DeliveryState.DELIVERED);

    JsonNode event = get("/api/v1/events/" + eventId);
    assertThat(event.path("id").asText()).isEqualTo(eventId);
    assertThat(event.path("source").asText()).isEqualTo("calls");
    assertThat(event.path("partitionKey").asText()).isEqualTo("i-detail");
    assertThat(event.path("payload").path("interactionId").asText()).isEqualTo("i-detail");
    assertThat(event.path("payload").has("recordingUrl")).isFalse();
    assertThat(event.path("payload").path("contact").path("phoneNumber").asText())
        .isNotEmpty()
        .isNotEqualTo("+15550100199");
    // "0100" alone also turns up in random ids (dlv_…30100bcd…): look for the masked digits' run
    assertThat(event.toString()).doesNotContain("5550100", "https://rec/1", SECRET);
    assertThat(event.path("headers").has("x-signature")).isFalse();

    JsonNode deliveries = event.path("deliveries");
    assertThat(deliveries).hasSize(2);
    JsonNode toCrm = null;
    for (JsonNode d : deliveries) {
      if (d.path("destination").asText().equals("crm")) {
        toCrm = d;
      }
    }
    assertThat(toCrm).isNotNull();
    assertThat(toCrm.path("state").asText()).isEqualTo("delivered");
    // the body each route sends: the stored payload, or its transform
    assertThat(JSON.readTree(toCrm.path("body").asText()).path("interactionId").asText())
        .isEqualTo("i-detail");
    JsonNode toOps = deliveries.get(0) == toCrm ? deliveries.get(1) : deliveries.get(0);
    assertThat(JSON.readTree(toOps.path("body").asText()))
        .isEqualTo(JSON.readTree("{\"call\":\"i-detail\"}"));
    assertThat(toOps.path("bodyNote").isNull()).isTrue();
    JsonNode attempts = toCrm.path("attempts");
    assertThat(attempts).hasSize(3);
    int[] statuses = {500, 503, 202};
    String[] outcomes = {"retry", "retry", "delivered"};
    Instant previous = Instant.MIN;
    for (int i = 0; i < 3; i++) {
      JsonNode a = attempts.get(i);
      assertThat(a.path("number").asInt()).isEqualTo(i + 1);
      assertThat(a.path("status").asInt()).isEqualTo(statuses[i]);
      assertThat(a.path("outcome").asText()).isEqualTo(outcomes[i]);
      assertThat(a.path("durationMs").asLong()).isGreaterThanOrEqualTo(0);
      Instant started = Instant.parse(a.path("startedAt").asText());
      assertThat(started).isAfterOrEqualTo(previous);
      previous = started;
    }
    assertThat(attempts.get(0).path("excerpt").asText()).isEqualTo("boom-1");
    assertThat(attempts.get(1).path("excerpt").asText()).isEqualTo("boom-2");

    JsonNode one = get("/api/v1/deliveries/" + toCrm.path("id").asText());
    assertThat(one.path("attempts")).hasSize(3);
    assertThat(one.path("eventId").asText()).isEqualTo(eventId);

    problem(
        call("GET", "/api/v1/events/evt_" + "0".repeat(32), "Bearer " + TOKEN, null),
        404,
        "unknown_event");
    problem(call("GET", "/api/v1/events/not-an-id", "Bearer " + TOKEN, null), 404, "unknown_event");
    problem(
        call("GET", "/api/v1/deliveries/dlv_" + "0".repeat(32), "Bearer " + TOKEN, null),
        404,
        "unknown_delivery");
  }

  @Test
  void bulkReplayCountsWithADryRunThenReplaysOnlyTheMatches() throws Exception {
    crm.answer(
        Answer.status(400).body("bad"),
        Answer.status(400).body("bad"),
        Answer.status(400).body("bad"));
    ops.answer(Answer.status(422).body("nope"));
    start();
    List<String> events = List.of(postCall(), postCall(), postCall());
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> events.stream().allMatch(e -> state(e, "crm") == DeliveryState.DEAD));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                events.stream().filter(e -> state(e, "ops") == DeliveryState.DEAD).count() == 1
                    && events.stream()
                            .filter(e -> state(e, "ops") == DeliveryState.DELIVERED)
                            .count()
                        == 2);

    assertThat(pageAll("/api/v1/dead-letters?limit=1")).hasSize(4);
    List<JsonNode> crmDead = pageAll("/api/v1/dead-letters?destination=crm");
    assertThat(crmDead)
        .hasSize(3)
        .allSatisfy(
            d -> {
              assertThat(d.path("errorClass").asText()).isEqualTo("http_4xx");
              assertThat(d.path("state").asText()).isEqualTo("dead");
            });
    assertThat(pageAll("/api/v1/dead-letters?errorClass=http_5xx")).isEmpty();

    problem(post("/api/v1/dead-letters/replay", "{}"), 400, "filter_required");
    problem(post("/api/v1/dead-letters/replay", "{\"destnation\":\"crm\"}"), 400, "invalid_body");
    problem(post("/api/v1/dead-letters/replay", "not json"), 400, "invalid_body");
    // found by fuzzing the query parameters: such years overflowed epoch milliseconds (a 500)
    problem(
        post("/api/v1/dead-letters/replay", "{\"to\":\"+1000000000-12-31T23:59:59Z\"}"),
        400,
        "invalid_body");

    HttpResponse<String> dry =
        post("/api/v1/dead-letters/replay", "{\"destination\":\"crm\",\"dryRun\":true}");
    assertThat(dry.statusCode()).as(dry.body()).isEqualTo(200);
    assertThat(JSON.readTree(dry.body()).path("matched").asLong()).isEqualTo(3);
    assertThat(JSON.readTree(dry.body()).path("dryRun").asBoolean()).isTrue();
    assertThat(events).allMatch(e -> state(e, "crm") == DeliveryState.DEAD);
    assertThat(crm.requests()).hasSize(3);

    HttpResponse<String> done = post("/api/v1/dead-letters/replay", "{\"destination\":\"crm\"}");
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    assertThat(JSON.readTree(done.body()).path("replayed").asLong()).isEqualTo(3);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> events.stream().allMatch(e -> state(e, "crm") == DeliveryState.DELIVERED));
    assertThat(crm.requests()).hasSize(6);
    for (String e : events) {
      DeliveryRecord d = delivery(e, "crm");
      assertThat(d.replays()).isEqualTo(1);
      assertThat(d.handledBy()).isEqualTo("admin-api:ops-oncall");
      assertThat(crm.requestsWithHeader("Idempotency-Key", d.id().value())).hasSize(2);
    }
    // the ops dead letter was not touched
    String opsDead = pageAll("/api/v1/dead-letters").get(0).path("id").asText();
    assertThat(pageAll("/api/v1/dead-letters")).hasSize(1);
    assertThat(ops.requests()).hasSize(3);

    // one at a time: discard, then neither replay nor discard applies to it any more
    assertThat(post("/api/v1/deliveries/" + opsDead + "/discard", null).statusCode())
        .isEqualTo(204);
    JsonNode discarded = get("/api/v1/deliveries/" + opsDead);
    assertThat(discarded.path("state").asText()).isEqualTo("skipped");
    assertThat(discarded.path("handledBy").asText()).isEqualTo("admin-api:ops-oncall");
    problem(post("/api/v1/deliveries/" + opsDead + "/discard", null), 409, "not_discardable");
    problem(post("/api/v1/deliveries/" + opsDead + "/replay", null), 409, "not_replayable");
    HttpResponse<String> none =
        post("/api/v1/dead-letters/discard", "{\"all\":true,\"dryRun\":true}");
    assertThat(JSON.readTree(none.body()).path("matched").asLong()).isZero();

    // a delivered one replays on request, by id, in bulk with includeDelivered
    String delivered = delivery(events.get(0), "crm").id().value();
    HttpResponse<String> again =
        post(
            "/api/v1/dead-letters/replay",
            "{\"ids\":[\"" + delivered + "\"],\"includeDelivered\":true}");
    assertThat(JSON.readTree(again.body()).path("replayed").asLong()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(5)).until(() -> crm.requests().size() == 7);
    problem(
        post("/api/v1/dead-letters/discard", "{\"all\":true,\"includeDelivered\":true}"),
        400,
        "invalid_body");
  }

  @Test
  void pauseHoldsADestinationAndResumeSendsWhatWaited() throws Exception {
    start();
    assertThat(post("/api/v1/destinations/crm/pause", null).statusCode()).isEqualTo(204);
    JsonNode paused = get("/api/v1/destinations/crm");
    assertThat(paused.path("paused").asBoolean()).isTrue();
    String eventId = postCall();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> state(eventId, "ops") == DeliveryState.DELIVERED);
    await()
        .during(Duration.ofMillis(400))
        .atMost(Duration.ofSeconds(3))
        .until(() -> crm.requests().isEmpty());
    JsonNode list = get("/api/v1/destinations");
    JsonNode crmNow = null;
    for (JsonNode d : list.path("items")) {
      if (d.path("name").asText().equals("crm")) {
        crmNow = d;
      }
    }
    assertThat(crmNow).isNotNull();
    assertThat(crmNow.path("paused").asBoolean()).isTrue();
    assertThat(crmNow.path("queueDepth").asLong()).isEqualTo(1);
    assertThat(crmNow.path("queue").path("pending").asLong()).isEqualTo(1);
    assertThat(crmNow.path("type").asText()).isEqualTo("http");
    assertThat(crmNow.path("breaker").asText()).isEqualTo("closed");
    assertThat(list.path("items")).hasSize(2);

    assertThat(post("/api/v1/destinations/crm/resume", null).statusCode()).isEqualTo(204);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> state(eventId, "crm") == DeliveryState.DELIVERED);
    JsonNode resumed = get("/api/v1/destinations/crm");
    assertThat(resumed.path("paused").asBoolean()).isFalse();
    assertThat(resumed.path("queueDepth").asLong()).isZero();
    assertThat(resumed.path("attemptsPerSecond").asDouble()).isPositive();

    problem(post("/api/v1/destinations/nope/pause", null), 404, "unknown_destination");
    problem(
        call("GET", "/api/v1/destinations/nope", "Bearer " + TOKEN, null),
        404,
        "unknown_destination");
  }

  @Test
  void sourcesShowRejectionsByReasonAndNeverASecret() throws Exception {
    start();
    byte[] body =
        GatewayFixture.utf8("{\"interactionId\":\"x\",\"timestamp\":\"2026-10-27T14:30:00Z\"}");
    assertThat(gw.post("calls", body, Map.of("X-Signature", "00")).statusCode()).isEqualTo(401);
    postCall();
    HttpResponse<String> raw = call("GET", "/api/v1/sources", "Bearer " + TOKEN, null);
    assertThat(raw.body()).doesNotContain(SECRET, TOKEN);
    JsonNode sources = JSON.readTree(raw.body());
    JsonNode calls = sources.path("items").get(0);
    assertThat(calls.path("name").asText()).isEqualTo("calls");
    assertThat(calls.path("verify").path("scheme").asText()).isEqualTo("hmac-sha256-hex");
    assertThat(calls.path("verify").path("secrets").asInt()).isEqualTo(1);
    assertThat(calls.path("requests").path("accepted").asLong()).isEqualTo(1);
    assertThat(calls.path("rejections").path("signature_rejected").asLong()).isEqualTo(1);
    assertThat(sources.path("items").get(1).path("schema").asBoolean()).isTrue();

    JsonNode routes = get("/api/v1/routes");
    assertThat(routes.path("items")).hasSize(2);
    assertThat(routes.path("items").get(0).path("to").asText()).isEqualTo("crm");
    assertThat(routes.path("items").get(0).path("ordering").asText()).isEqualTo("none");
  }

  @Test
  void statsCountIngestDeliveriesLatencyAndQueuesPerStep() throws Exception {
    start();
    List<String> events = List.of(postCall(), postCall(), postCall());
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                events.stream()
                    .allMatch(
                        e ->
                            state(e, "crm") == DeliveryState.DELIVERED
                                && state(e, "ops") == DeliveryState.DELIVERED));
    HttpResponse<String> bad = gw.post("forms", GatewayFixture.utf8("{\"formId\":1}"), Map.of());
    assertThat(bad.statusCode()).isEqualTo(202); // quarantined
    JsonNode stats = get("/api/v1/stats?window=1m");
    assertThat(stats.path("stepSeconds").asInt()).isEqualTo(10);
    JsonNode points = stats.path("points");
    assertThat(points).hasSize(6);
    JsonNode now = points.get(points.size() - 1);
    assertThat(now.path("ingest").path("accepted").asLong()).isEqualTo(3);
    assertThat(now.path("ingest").path("quarantined").asLong()).isEqualTo(1);
    assertThat(now.path("ackMs").path("count").asLong()).isEqualTo(4);
    assertThat(now.path("ackMs").path("p99").asDouble()).isPositive();
    assertThat(now.path("deliveries").path("crm").path("delivered").asLong()).isEqualTo(3);
    assertThat(now.path("endToEndMs").path("count").asLong()).isEqualTo(6);
    assertThat(now.path("queues").path("crm").path("depth").asLong()).isZero();
    assertThat(points.get(0).path("ackMs").isNull()).isTrue();

    clock.advance(Duration.ofSeconds(10)); // a new step: empty until something happens
    JsonNode later = get("/api/v1/stats?window=20s").path("points");
    assertThat(later).hasSize(2);
    assertThat(later.get(0).path("ingest").path("accepted").asLong()).isEqualTo(3);
    assertThat(later.get(1).path("ingest").path("accepted").asLong()).isZero();
    problem(
        call("GET", "/api/v1/stats?window=2h", "Bearer " + TOKEN, null), 400, "invalid_parameter");
    problem(
        call("GET", "/api/v1/stats?window=soon", "Bearer " + TOKEN, null),
        400,
        "invalid_parameter");
  }

  @Test
  void theOpenApiDocumentListsExactlyTheRoutesTheGatewayServes() throws Exception {
    start();
    HttpResponse<String> r = call("GET", AdminRoutes.OPENAPI_PATH, null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    Map<String, Object> doc = new Yaml().load(r.body());
    assertThat(doc.get("openapi")).isEqualTo("3.1.0");
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> paths = (Map<String, Map<String, Object>>) doc.get("paths");
    Set<String> documented = new TreeSet<>();
    paths.forEach(
        (path, operations) ->
            operations.keySet().stream()
                .filter(m -> Set.of("get", "post", "put", "patch", "delete").contains(m))
                .forEach(m -> documented.add(m.toUpperCase(java.util.Locale.ROOT) + " " + path)));
    Set<String> served = new TreeSet<>();
    gw.gateway().httpEndpoints().stream()
        .filter(e -> e.substring(e.indexOf(' ') + 1).startsWith("/api/v1/"))
        .filter(e -> !e.startsWith("BEFORE") && !e.startsWith("AFTER"))
        .forEach(served::add);
    assertThat(served).as("served but not documented").isSubsetOf(documented);
    assertThat(documented).as("documented but not served").isSubsetOf(served);
  }
}
