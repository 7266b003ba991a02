package dev.switchboard.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delivery side as an operator watches it: the packaged gateway in a child JVM (its real JSON
 * log on stdout), an event dead-lettered by a 4xx and replayed over the admin API. Each dead letter
 * and each replay is one JSON line with the event id, route, destination, attempt number and error
 * class, and no payload or URL query; {@code /metrics} has each destination's queue depth, dead
 * letters, breaker state, pause and hold, and the JVM and process metrics.
 */
class DeliveryLogIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SECRET = "log-it-secret";
  static final String TOKEN = "log-it-admin-token";
  static final String MARKER = "PAYLOAD-MARKER-5d1c";
  static final String QUERY = "QS-5ecret-d41e";

  @TempDir Path dir;
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  final FakeDestination crm = new FakeDestination();
  Process child;

  @AfterEach
  void stop() throws InterruptedException {
    if (child != null && child.isAlive()) {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    crm.close();
    client.close();
  }

  @Test
  void aDeadLetterAndItsReplayAreOneJsonLineEachAndMetricsShowTheDestinationsState()
      throws Exception {
    Path config = dir.resolve("switchboard.yaml");
    Files.writeString(
        config,
        """
        server: { host: 127.0.0.1, port: "${PORT}", shutdown_grace: 5s }
        store: { path: "%s" }
        admin: { token: "%s" }
        sources:
          calls:
            verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["${SECRET}"] }
            idempotency: { key: interactionId }
        routes:
          to-crm: { from: calls, to: crm }
          filter-fails: { from: calls, to: other, when: "note + 1 = 2" }
        destinations:
          crm: { type: http, url: "%s" }
          other: { type: http, url: "%s" }
        """
            .formatted(
                dir.resolve("sb.db"),
                TOKEN,
                crm.uri("/in?code=" + QUERY),
                crm.uri("/other?code=" + QUERY)));
    crm.answer(Answer.status(422).body("{\"echo\":\"" + MARKER + "\"}"));
    int port = ChildGateway.freePort();
    child = ChildGateway.start(dir, config, port, SECRET, "deliveries");
    ChildGateway.awaitReady(client, port);

    byte[] body =
        ("{\"interactionId\":\"i-1\",\"note\":\"" + MARKER + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    HttpResponse<String> posted = ChildGateway.postSigned(client, port, "calls", SECRET, body);
    assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
    String eventId = JSON.readTree(posted.body()).path("eventId").asText();

    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> delivery(port, eventId).path("state").asText().equals("dead"));
    String deliveryId = delivery(port, eventId).path("id").asText();
    await("the dead letter in the gauges")
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                metrics(port)
                    .contains("switchboard_destination_dead_letters{destination=\"crm\"} 1"));

    HttpResponse<String> replay =
        client.send(
            admin(port, "/api/v1/deliveries/" + deliveryId + "/replay")
                .header("X-Switchboard-Actor", "ops-alice")
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(replay.statusCode()).as(replay.body()).isEqualTo(204);
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> delivery(port, eventId).path("state").asText().equals("delivered"));

    // the gauges are refreshed at most once a second, on a scrape
    await("the replayed dead letter out of the gauges")
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                metrics(port)
                    .contains("switchboard_destination_dead_letters{destination=\"crm\"} 0"));
    String scraped = metrics(port);
    assertThat(scraped)
        .contains(
            "switchboard_destination_queue_depth{destination=\"crm\"}",
            "switchboard_destination_dead_letters{destination=\"crm\"} 0",
            "switchboard_destination_breaker_state{destination=\"crm\",state=\"closed\"} 1",
            "switchboard_destination_breaker_state{destination=\"crm\",state=\"open\"} 0",
            "switchboard_destination_paused{destination=\"crm\"} 0",
            "switchboard_destination_held{destination=\"crm\"} 0",
            "jvm_memory_used_bytes{",
            "jvm_gc_",
            "jvm_threads_live_threads ",
            "jvm_classes_loaded_classes ",
            "system_cpu_count ",
            "process_uptime_seconds ",
            "process_files_open_files ");

    child.destroy(); // SIGTERM: a graceful stop flushes the log
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("child-deliveries.log"))) {
      if (line.startsWith("{")) {
        lines.add(JSON.readTree(line));
      }
    }
    List<JsonNode> dead = withMessage(lines, "dead letter");
    List<JsonNode> replayed = withMessage(lines, "replayed");
    // the filter that failed at ingest made a dead letter there, with no attempt
    assertThat(dead)
        .filteredOn(l -> l.path("mdc").path("route").asText().equals("filter-fails"))
        .singleElement()
        .satisfies(
            l -> {
              assertThat(l.path("mdc").path("eventId").asText()).isEqualTo(eventId);
              assertThat(l.path("mdc").path("destination").asText()).isEqualTo("other");
              assertThat(l.path("mdc").path("attempt").asText()).isEqualTo("0");
              assertThat(l.path("mdc").path("errorClass").asText()).isEqualTo("filter");
            });
    dead = dead.stream().filter(l -> !l.toString().contains("filter-fails")).toList();
    assertThat(dead).hasSize(1);
    assertThat(replayed).hasSize(1);
    for (JsonNode line : List.of(dead.get(0), replayed.get(0))) {
      JsonNode mdc = line.path("mdc");
      assertThat(mdc.path("eventId").asText()).isEqualTo(eventId);
      assertThat(mdc.path("deliveryId").asText()).isEqualTo(deliveryId);
      assertThat(mdc.path("route").asText()).isEqualTo("to-crm");
      assertThat(mdc.path("destination").asText()).isEqualTo("crm");
      assertThat(mdc.path("attempt").asText()).isEqualTo("1");
      assertThat(mdc.path("errorClass").asText()).isEqualTo("http_4xx");
    }
    assertThat(replayed.get(0).path("mdc").path("by").asText()).isEqualTo("admin-api:ops-alice");
    String log = Files.readString(dir.resolve("child-deliveries.log"));
    assertThat(log).doesNotContain(MARKER).doesNotContain(QUERY);
  }

  static List<JsonNode> withMessage(List<JsonNode> lines, String prefix) {
    return lines.stream()
        .filter(l -> l.path("formattedMessage").asText().startsWith(prefix + ":"))
        .toList();
  }

  HttpRequest.Builder admin(int port, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer " + TOKEN);
  }

  JsonNode delivery(int port, String eventId) throws IOException, InterruptedException {
    HttpResponse<String> r =
        client.send(
            admin(port, "/api/v1/events/" + eventId).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    for (JsonNode d : JSON.readTree(r.body()).path("deliveries")) {
      if (d.path("route").asText().equals("to-crm")) {
        return d;
      }
    }
    throw new AssertionError("no delivery on to-crm: " + r.body());
  }

  String metrics(int port) throws IOException, InterruptedException {
    HttpResponse<String> r =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }
}
