package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.dispatch.DestinationStatus;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.FakeDestination.Answer;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The operator commands ({@code events}, {@code dlq}, {@code destinations}) against a running
 * gateway over real HTTP: run in-process through picocli as {@code main} would, and once as the
 * packaged jar in a child process with the token in the environment.
 */
class AdminCliIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String TOKEN = "cli-t0ken";

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:05Z"));
  final FakeDestination crm = new FakeDestination();
  GatewayFixture gw;

  /** What one command printed and its exit code. */
  record Run(int exit, String out, String err) {
    JsonNode json() throws Exception {
      return JSON.readTree(out);
    }
  }

  @BeforeEach
  void start() throws Exception {
    String yaml =
        """
        admin: { token: "${ADMIN_TOKEN}" }
        sources:
          calls:
            verify: { scheme: none }
            idempotency: { key: interactionId }
            partition_key: interactionId
        routes:
          to-crm: { from: calls, to: crm }
        destinations:
          crm:
            type: http
            url: ${CRM}
        """;
    gw =
        GatewayFixture.start(
            dir, yaml, Map.of("ADMIN_TOKEN", TOKEN, "CRM", crm.uri("/in").toString()), clock);
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    crm.close();
  }

  String url() {
    return gw.uri("").toString();
  }

  /** Runs {@code switchboard args…} against the gateway with the token given as a flag. */
  Run cli(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--url", url(), "--token", TOKEN, "--as", "cli-test"));
    return raw(all.toArray(String[]::new));
  }

  static Run raw(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(new Main());
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int exit = cmd.execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  String post(String interactionId) throws Exception {
    HttpResponse<String> r =
        gw.post(
            "calls",
            GatewayFixture.utf8("{\"interactionId\":\"" + interactionId + "\",\"agent\":\"Zoe\"}"),
            Map.of());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return JSON.readTree(r.body()).path("eventId").asText();
  }

  DeliveryRecord delivery(String eventId) {
    return gw.gateway().deliveries().deliveriesOf(new EventId(eventId)).get(0);
  }

  DestinationStatus crmStatus() {
    return gw.gateway().deliveries().destinations().get(0);
  }

  /** The column where each header word starts must be where that column starts in every row. */
  static void assertAligned(String table, String... headers) {
    String[] lines = table.strip().split("\n");
    String header = lines[0];
    for (String h : headers) {
      assertThat(header).contains(h);
    }
    int last = header.indexOf(headers[headers.length - 1]);
    for (int i = 1; i < lines.length; i++) {
      if (lines[i].startsWith("more:")) {
        continue;
      }
      assertThat(lines[i].length()).as("row %d reaches the last column", i).isGreaterThan(last);
      assertThat(lines[i].charAt(last - 1)).as("a blank before the last column").isEqualTo(' ');
      assertThat(lines[i].charAt(last)).as("the last column starts aligned").isNotEqualTo(' ');
    }
  }

  @Test
  void destinationsListPauseAndResume() throws Exception {
    Run list = cli("destinations", "list");
    assertThat(list.exit()).as(list.err()).isZero();
    assertAligned(list.out(), "NAME", "TYPE", "STATE", "BREAKER", "QUEUE", "DEAD", "LAST ERROR");
    assertThat(list.out()).contains("crm").contains("http").contains("active");

    Run pause = cli("destinations", "pause", "crm");
    assertThat(pause.exit()).as(pause.err()).isZero();
    assertThat(pause.out()).contains("crm paused");
    assertThat(crmStatus().paused()).isTrue();
    String eventId = post("i-paused");
    JsonNode listed = cli("destinations", "list", "--json").json();
    assertThat(listed.path("items").get(0).path("paused").asBoolean()).isTrue();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                cli("destinations", "list", "--json")
                        .json()
                        .path("items")
                        .get(0)
                        .path("queueDepth")
                        .asLong()
                    == 1);
    assertThat(cli("destinations", "list").out()).contains("paused");

    Run resume = cli("destinations", "resume", "crm");
    assertThat(resume.exit()).as(resume.err()).isZero();
    assertThat(resume.out()).contains("crm resumed");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> delivery(eventId).state() == DeliveryState.DELIVERED);

    Run unknown = cli("destinations", "pause", "nope");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err()).contains("No such destination").contains("unknown_destination");
  }

  @Test
  void eventsSearchAndShow() throws Exception {
    String first = post("i-first");
    clock.advance(Duration.ofSeconds(1)); // so "newest first" has one answer (ties go by id)
    String second = post("i-second");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                delivery(first).state() == DeliveryState.DELIVERED
                    && delivery(second).state() == DeliveryState.DELIVERED);

    Run search = cli("events", "search");
    assertThat(search.exit()).as(search.err()).isZero();
    assertAligned(
        search.out(), "RECEIVED", "EVENT", "SOURCE", "STATUS", "PARTITION KEY", "DELIVERIES");
    assertThat(search.out()).contains(first, second, "delivered:1");

    Run one = cli("events", "search", "--partition-key", "i-second", "--json");
    assertThat(one.exit()).isZero();
    assertThat(one.json().path("items")).hasSize(1);
    assertThat(one.json().path("items").get(0).path("id").asText()).isEqualTo(second);

    Run paged = cli("events", "search", "--limit", "1");
    assertThat(paged.out()).contains(second).doesNotContain(first).contains("more: add --cursor ");
    String cursor = paged.out().substring(paged.out().indexOf("--cursor ") + 9).strip();
    assertThat(cli("events", "search", "--limit", "1", "--cursor", cursor).out()).contains(first);

    assertThat(cli("events", "search", "--text", "zoe", "--from", "1h").exit()).isZero();
    assertThat(cli("events", "search", "--source", "calls", "--to", "2026-10-27T14:00:00Z").out())
        .contains("no events match");

    Run show = cli("events", "show", first);
    assertThat(show.exit()).as(show.err()).isZero();
    assertThat(show.out())
        .contains(first)
        .contains("\"interactionId\" : \"i-first\"")
        .contains(delivery(first).id().value())
        .contains("to-crm -> crm  delivered");
    assertAligned(
        show.out().substring(show.out().indexOf("#  STARTED")),
        "#",
        "STARTED",
        "MS",
        "STATUS",
        "OUTCOME",
        "ERROR",
        "ANSWER EXCERPT");
    assertThat(show.out()).contains("202");

    Run missing = cli("events", "show", "evt_" + "0".repeat(32));
    assertThat(missing.exit()).isEqualTo(1);
    assertThat(missing.err()).contains("No such event");
  }

  @Test
  void dlqListReplayWithDryRunAndDiscard() throws Exception {
    crm.answer(Answer.status(400).body("bad"), Answer.status(400).body("bad"), Answer.status(422));
    List<String> events = List.of(post("i-1"), post("i-2"), post("i-3"));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> events.stream().allMatch(e -> delivery(e).state() == DeliveryState.DEAD));

    Run list = cli("dlq", "list");
    assertThat(list.exit()).as(list.err()).isZero();
    assertAligned(
        list.out(), "ARRIVED", "DELIVERY", "EVENT", "DESTINATION", "ERROR CLASS", "LAST ERROR");
    for (String e : events) {
      assertThat(list.out()).contains(delivery(e).id().value());
    }
    assertThat(list.out()).contains("http_4xx");

    Run refused = cli("dlq", "replay");
    assertThat(refused.exit()).isEqualTo(2);
    assertThat(refused.err()).contains("--all");

    String kept = delivery(events.get(2)).id().value();
    Run discard = cli("dlq", "discard", kept);
    assertThat(discard.exit()).as(discard.err()).isZero();
    assertThat(discard.out()).contains("discarded 1");
    assertThat(delivery(events.get(2)).state()).isEqualTo(DeliveryState.SKIPPED);
    assertThat(delivery(events.get(2)).handledBy()).isEqualTo("admin-api:cli-test");

    Run dry = cli("dlq", "replay", "--destination", "crm", "--dry-run");
    assertThat(dry.exit()).as(dry.err()).isZero();
    assertThat(dry.out()).contains("would replay 2").contains("nothing changed");
    assertThat(delivery(events.get(0)).state()).isEqualTo(DeliveryState.DEAD);
    assertThat(crm.requests()).hasSize(3);

    Run replay =
        cli("dlq", "replay", "--destination", "crm", "--error-class", "http_4xx", "--json");
    assertThat(replay.exit()).as(replay.err()).isZero();
    assertThat(replay.json().path("replayed").asLong()).isEqualTo(2);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                delivery(events.get(0)).state() == DeliveryState.DELIVERED
                    && delivery(events.get(1)).state() == DeliveryState.DELIVERED);
    assertThat(cli("dlq", "list").out()).contains("no dead letters match");

    Run again = cli("dlq", "discard", kept);
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).contains("not_discardable");
  }

  @Test
  void anUnreachableGatewayOrAWrongTokenExitsNonZeroWithAClearMessage() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Run unreachable =
        raw("destinations", "list", "--url", "http://127.0.0.1:" + closedPort, "--token", TOKEN);
    assertThat(unreachable.exit()).isEqualTo(3);
    assertThat(unreachable.err())
        .contains("cannot reach the gateway at http://127.0.0.1:" + closedPort)
        .doesNotContain(TOKEN);

    Run wrong = raw("dlq", "list", "--url", url(), "--token", "not-the-token");
    assertThat(wrong.exit()).isEqualTo(4);
    assertThat(wrong.err()).contains("refused the admin token").doesNotContain("not-the-token");
    assertThat(wrong.out()).isEmpty();

    Run none = raw("events", "search", "--url", url(), "--token", "");
    assertThat(none.exit()).isEqualTo(4);
    assertThat(none.err()).contains("no admin token");

    Run badTime = raw("events", "search", "--url", url(), "--token", TOKEN, "--from", "yesterday");
    assertThat(badTime.exit()).isEqualTo(2);
    assertThat(badTime.err()).contains("--from");
  }

  @Test
  void thePackagedCommandTakesItsTokenAndUrlFromTheEnvironment() throws Exception {
    String jar = System.getProperty("switchboard.jar", "target/switchboard.jar");
    assertThat(Path.of(jar)).as("the packaged jar (failsafe runs after package)").exists();
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Run ok = child(javaBin, jar, TOKEN);
    assertThat(ok.exit()).as(ok.err()).isZero();
    assertAligned(ok.out(), "NAME", "TYPE", "STATE", "LAST ERROR");
    assertThat(ok.out()).contains("crm");
    Run refused = child(javaBin, jar, "wrong");
    assertThat(refused.exit()).isEqualTo(4);
    assertThat(refused.err()).contains("refused the admin token");
  }

  Run child(String javaBin, String jar, String token) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(javaBin, "-Xmx128m", "-jar", jar, "destinations", "list")
            .redirectOutput(dir.resolve("child.out").toFile())
            .redirectError(dir.resolve("child.err").toFile());
    pb.environment().put("SWITCHBOARD_ADMIN_TOKEN", token);
    pb.environment().put("SWITCHBOARD_URL", url());
    Process p = pb.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the command ends").isTrue();
    return new Run(
        p.exitValue(),
        Files.readString(dir.resolve("child.out"), StandardCharsets.UTF_8),
        Files.readString(dir.resolve("child.err"), StandardCharsets.UTF_8));
  }
}
