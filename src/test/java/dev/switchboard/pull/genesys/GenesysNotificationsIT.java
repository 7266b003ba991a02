package dev.switchboard.pull.genesys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.demo.genesys.FakeGenesysCloud;
import dev.switchboard.pull.PullStatus;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.PulledSourceConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code genesys-notifications} source against a fake Genesys Cloud speaking the real protocol
 * over a real WebSocket on 127.0.0.1: events are stored and delivered; a dropped socket, a {@code
 * socket_closing}, a channel's expiry and overlapping channels lose nothing and deliver nothing
 * twice; more than 1,000 topics take several channels; refusals are reported in words.
 */
@Timeout(120)
class GenesysNotificationsIT {
  static final String CLIENT = "switchboard-it";
  static final String SECRET = "it-secret";
  static final String QUEUE = "f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f";
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  FakeGenesysCloud genesys;
  FakeDestination receiver;
  GatewayFixture gateway;

  @BeforeEach
  void fakes() {
    genesys = FakeGenesysCloud.start(CLIENT, SECRET);
    receiver = new FakeDestination();
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    receiver.close();
    genesys.close();
  }

  void startGateway(String sourceExtras) throws Exception {
    startGateway(sourceExtras, "    queues: [\"" + QUEUE + "\"]\n", SECRET);
  }

  void startGateway(String sourceExtras, String queues, String secret) throws Exception {
    startGateway("v2.routing.queues.{id}.conversations", sourceExtras, queues, secret);
  }

  void startGateway(String topic, String sourceExtras, String queues, String secret)
      throws Exception {
    String yaml =
        PulledSourceConfig.yaml(
            genesys.baseUrl(),
            CLIENT,
            "${GENESYS_SECRET}",
            topic,
            queues,
            sourceExtras,
            receiver.uri("/in"));
    gateway =
        GatewayFixture.start(
            dir, "", "", yaml, Map.of("GENESYS_SECRET", secret), Clock.systemUTC());
  }

  @Test
  void aLostConnectionAndItsReturnAreOperationalEvents() throws Exception {
    try (FakeDestination ops = new FakeDestination()) {
      String yaml =
          PulledSourceConfig.yaml(
                      genesys.baseUrl(), CLIENT, "${GENESYS_SECRET}", QUEUE, receiver.uri("/in"))
                  .replace("routes:\n", "routes:\n  ops: { from: switchboard, to: ops }\n")
              + "  ops: { type: http, url: \""
              + ops.uri("/ops")
              + "\" }\n";
      gateway =
          GatewayFixture.start(
              dir, "", "", yaml, Map.of("GENESYS_SECRET", SECRET), Clock.systemUTC());
      awaitConnected(1);
      await("connected long enough for the gateway to have seen it")
          .during(Duration.ofSeconds(1))
          .atMost(Duration.ofSeconds(5))
          .until(() -> "connected".equals(status().state()));
      assertThat(operationalTypes(ops)).as("a first connection is no news").isEmpty();
      genesys.refuseConnections(true);
      genesys.dropSockets();
      await("source.disconnected at the operator's sink")
          .atMost(Duration.ofSeconds(20))
          .until(() -> operationalTypes(ops).contains("source.disconnected"));
      genesys.refuseConnections(false);
      await("source.reconnected at the operator's sink")
          .atMost(Duration.ofSeconds(30))
          .until(() -> operationalTypes(ops).contains("source.reconnected"));
      for (FakeDestination.Request r : ops.requests()) {
        com.fasterxml.jackson.databind.JsonNode e =
            new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.bodyText());
        assertThat(e.path("subject").path("source").asText()).isEqualTo("genesys");
      }
    }
  }

  static List<String> operationalTypes(FakeDestination ops) throws Exception {
    List<String> types = new ArrayList<>();
    for (FakeDestination.Request r : ops.requests()) {
      types.add(
          new com.fasterxml.jackson.databind.ObjectMapper()
              .readTree(r.bodyText())
              .path("type")
              .asText());
    }
    return types;
  }

  PullStatus status() {
    return gateway.gateway().pullStatus().get(0);
  }

  void awaitConnected(int sockets) {
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> genesys.connectedSockets() == sockets && "connected".equals(status().state()));
  }

  /** A conversation that ends now, published on the queue's topic; its id. */
  String conversation() {
    Instant now = Instant.now();
    return genesys.conversation(QUEUE, now.minusSeconds(120), now, "resolved").conversationId();
  }

  /** The conversation ids the receiver got, each as often as it came. */
  List<String> delivered() {
    List<String> ids = new ArrayList<>();
    for (FakeDestination.Request r : receiver.requests()) {
      try {
        JsonNode body = JSON.readTree(r.bodyText());
        ids.add(body.path("eventBody").path("id").asText());
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }
    return ids;
  }

  @Test
  void streamedEventsAreStoredAndDelivered() throws Exception {
    startGateway("");
    awaitConnected(1);
    assertThat(genesys.topicsOf(genesys.channelIds().get(0)))
        .containsExactly("v2.routing.queues." + QUEUE + ".conversations");

    List<String> sent = IntStream.range(0, 5).mapToObj(i -> conversation()).toList();

    await().atMost(Duration.ofSeconds(10)).until(() -> delivered().size() == 5);
    assertThat(delivered()).containsExactlyInAnyOrderElementsOf(sent);
    JsonNode first = JSON.readTree(receiver.requests().get(0).bodyText());
    assertThat(first.path("topicName").asText())
        .isEqualTo("v2.routing.queues." + QUEUE + ".conversations");
    assertThat(status().events()).isEqualTo(5);
    assertThat(status().backfilledEvents()).isZero();
    assertThat(status().coveredUntil()).isNotNull();
    String metrics = gateway.get("/metrics").body();
    assertThat(metrics)
        .contains("switchboard_pull_connected{source=\"genesys\"} 1.0")
        .contains("switchboard_pull_events_total{source=\"genesys\"} 5.0");
  }

  @Test
  void aSocketDroppedMidStreamLosesNothingAndDeliversNothingTwice() throws Exception {
    startGateway("");
    awaitConnected(1);
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      sent.add(conversation());
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> delivered().size() == 3);

    genesys.refuseConnections(true);
    genesys.dropSockets();
    await().atMost(Duration.ofSeconds(10)).until(() -> !"connected".equals(status().state()));
    List<String> whileDown = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      FakeGenesysCloud.Published p =
          genesys.conversation(QUEUE, Instant.now().minusSeconds(60), Instant.now(), "sale");
      assertThat(p.sockets()).as("nobody listens: the socket does not keep it").isZero();
      whileDown.add(p.conversationId());
    }
    sent.addAll(whileDown);
    genesys.refuseConnections(false);

    await().atMost(Duration.ofSeconds(30)).until(() -> delivered().size() >= sent.size());
    awaitConnected(1);
    sent.add(conversation()); // and the stream goes on
    await().atMost(Duration.ofSeconds(10)).until(() -> delivered().size() >= sent.size());
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> delivered().size() == sent.size());
    assertThat(delivered()).containsExactlyInAnyOrderElementsOf(sent).doesNotHaveDuplicates();
    assertThat(status().backfilledEvents()).isGreaterThanOrEqualTo(whileDown.size());
    assertThat(status().reconnects()).isGreaterThanOrEqualTo(1);
    assertThat(genesys.analyticsQueries()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void socketClosingMovesToANewChannelWithoutAGapAndOverlapDeliversOnce() throws Exception {
    startGateway("");
    awaitConnected(1);
    String first = genesys.channelIds().get(0);
    genesys.closingSoon(Duration.ofSeconds(5));

    // the new channel is connected while the old one still is: events reach both sockets
    await().atMost(Duration.ofSeconds(10)).until(() -> genesys.connectedSockets() == 2);
    List<String> sent = new ArrayList<>();
    int both = 0;
    for (int i = 0; i < 3; i++) {
      Instant now = Instant.now();
      FakeGenesysCloud.Published p = genesys.conversation(QUEUE, now.minusSeconds(30), now, "x");
      sent.add(p.conversationId());
      both = Math.max(both, p.sockets());
    }
    await().atMost(Duration.ofSeconds(15)).until(() -> genesys.connectedSockets() == 1);
    sent.add(conversation());

    await().atMost(Duration.ofSeconds(10)).until(() -> delivered().size() >= sent.size());
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> delivered().size() == sent.size());
    assertThat(delivered()).containsExactlyInAnyOrderElementsOf(sent).doesNotHaveDuplicates();
    assertThat(both).as("published while both channels were connected").isEqualTo(2);
    assertThat(status().duplicates()).as("the copy on the second socket").isPositive();
    assertThat(status().channels()).extracting(PullStatus.ChannelStatus::id).doesNotContain(first);
    assertThat(status().reconnects()).isEqualTo(1);
    assertThat(status().backfilledEvents()).as("no gap, nothing to backfill").isZero();
  }

  @Test
  void channelsAreReplacedBeforeTheyExpire() throws Exception {
    genesys.channelLifetime(Duration.ofSeconds(6));
    startGateway("");
    awaitConnected(1);
    List<String> sent = new ArrayList<>();
    long until = System.nanoTime() + Duration.ofSeconds(14).toNanos();
    while (System.nanoTime() < until) {
      sent.add(conversation());
      await().pollDelay(Duration.ofMillis(400)).until(() -> true);
    }
    assertThat(genesys.channelsCreated()).as("replaced at least twice").isGreaterThanOrEqualTo(3);
    await().atMost(Duration.ofSeconds(10)).until(() -> delivered().size() >= sent.size());
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> delivered().size() == sent.size());
    assertThat(delivered()).containsExactlyInAnyOrderElementsOf(sent).doesNotHaveDuplicates();
    assertThat(status().backfilledEvents()).as("no gap, nothing to backfill").isZero();
  }

  @Test
  void moreThanAThousandTopicsTakeSeveralChannels() throws Exception {
    List<String> queues =
        new ArrayList<>(
            IntStream.range(0, 1_499).mapToObj(i -> UUID.randomUUID().toString()).toList());
    queues.add(QUEUE); // the last one: in the second channel
    String list =
        queues.stream().map(q -> "      - \"" + q + "\"").collect(Collectors.joining("\n"));
    startGateway("", "    queues:\n" + list + "\n", SECRET);
    awaitConnected(2);
    Set<Integer> sizes = new HashSet<>();
    for (String channel : genesys.channelIds()) {
      sizes.add(genesys.topicsOf(channel).size());
    }
    assertThat(sizes).containsExactlyInAnyOrder(1_000, 500);
    String id = conversation();
    await().atMost(Duration.ofSeconds(10)).until(() -> delivered().contains(id));
    assertThat(status().channels()).hasSize(2);
  }

  @Test
  void aThrottledApiIsWaitedForAndARevokedTokenReplacedOnce() throws Exception {
    genesys.throttleNext(2, 1); // the channel's creation: 429, Retry-After: 1, twice
    startGateway("");
    await().atMost(Duration.ofSeconds(15)).until(() -> "connected".equals(status().state()));
    assertThat(status().lastError()).contains("HTTP 429").contains("rate limited");
    assertThat(status().errors()).isEqualTo(2);

    int tokens = genesys.tokensIssued();
    genesys.revokeTokens();
    genesys.closingSoon(Duration.ofSeconds(5)); // the replacement's calls meet the 401 first
    await().atMost(Duration.ofSeconds(15)).until(() -> status().reconnects() == 1);
    assertThat(genesys.tokensIssued()).as("one new token").isEqualTo(tokens + 1);
    assertThat(status().errors())
        .as("the 401 was answered with a new token, not an error")
        .isEqualTo(2);
    String id = conversation();
    await().atMost(Duration.ofSeconds(10)).until(() -> delivered().contains(id));
  }

  @Test
  void aGapIsReadOnlyOnceTheSettleDelayHasPassed() throws Exception {
    startGateway("    backfill: { settle: 3s }\n");
    awaitConnected(1);
    genesys.refuseConnections(true);
    genesys.dropSockets();
    await().atMost(Duration.ofSeconds(10)).until(() -> !"connected".equals(status().state()));
    String missed =
        genesys
            .conversation(QUEUE, Instant.now().minusSeconds(60), Instant.now(), "late")
            .conversationId();
    int queries = genesys.analyticsQueries();
    genesys.refuseConnections(false);
    awaitConnected(1);
    long reconnected = System.nanoTime();
    await().atMost(Duration.ofSeconds(15)).until(() -> delivered().contains(missed));
    assertThat(Duration.ofNanos(System.nanoTime() - reconnected))
        .as("the gap was read after the settle delay")
        .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    assertThat(genesys.analyticsQueries()).isGreaterThan(queries);
  }

  @Test
  void aWrongSecretIsReportedInWords() throws Exception {
    startGateway("", "    queues: [\"" + QUEUE + "\"]\n", "not-the-secret");
    await().atMost(Duration.ofSeconds(10)).until(() -> status().lastError() != null);
    assertThat(status().lastError())
        .contains("refused the OAuth client")
        .contains("client_id and client_secret")
        .doesNotContain("not-the-secret");
    assertThat(status().state()).isNotEqualTo("connected");
    assertThat(genesys.channelsCreated()).isZero();
  }

  @Test
  void aMissingPermissionIsReportedInWords() throws Exception {
    genesys.deny("notifications");
    startGateway("");
    await().atMost(Duration.ofSeconds(10)).until(() -> status().lastError() != null);
    assertThat(status().lastError()).contains("HTTP 403").contains("lacks a permission");
  }

  @Test
  void anUnknownTopicIsNamed() throws Exception {
    // a topic Genesys does not know passes the configuration's syntax check, and Genesys names it
    startGateway("v2.routing.queues." + QUEUE + ".conversationz", "", "", SECRET);
    await().atMost(Duration.ofSeconds(10)).until(() -> status().lastError() != null);
    assertThat(status().lastError())
        .contains("does not accept the topic v2.routing.queues." + QUEUE + ".conversationz");
  }

  @Test
  void aSocketThatGoesSilentIsDeclaredDeadReplacedAndItsGapBackfilled() throws Exception {
    genesys.heartbeatEvery(Duration.ofMillis(300));
    startGateway("    channel:\n      ping_after: 1s\n      dead_after: 3s\n");
    awaitConnected(1);
    List<String> sent = new ArrayList<>(List.of(conversation(), conversation()));
    await().atMost(Duration.ofSeconds(10)).until(() -> delivered().size() == 2);

    genesys.silenceSockets(); // open, but nothing comes: no heartbeat, no pong, no event
    for (int i = 0; i < 3; i++) {
      FakeGenesysCloud.Published p =
          genesys.conversation(QUEUE, Instant.now().minusSeconds(60), Instant.now(), "quiet");
      assertThat(p.sockets()).isZero();
      sent.add(p.conversationId());
    }

    await().atMost(Duration.ofSeconds(20)).until(() -> status().reconnects() >= 1);
    await().atMost(Duration.ofSeconds(20)).until(() -> delivered().size() >= sent.size());
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> delivered().size() == sent.size());
    assertThat(delivered()).containsExactlyInAnyOrderElementsOf(sent).doesNotHaveDuplicates();
    assertThat(status().backfilledEvents()).isEqualTo(3);
  }

  @Test
  void aGatewayKilledWithSigkillBackfillsTheTimeItWasDown() throws Exception {
    int port = ChildGateway.freePort();
    Path config = dir.resolve("switchboard.yaml");
    Files.writeString(
        config,
        """
        server:
          host: 127.0.0.1
          port: ${PORT}
        store: { path: %s }
        admin: { token: admin-token-for-it }
        """
                .formatted(dir.resolve("switchboard.db"))
            + PulledSourceConfig.yaml(
                genesys.baseUrl(), CLIENT, "${SECRET}", QUEUE, receiver.uri("/in")));
    try (HttpClient client = HttpClient.newHttpClient()) {
      Process first = ChildGateway.start(dir, config, port, SECRET, "first");
      List<String> sent = new ArrayList<>();
      try {
        ChildGateway.awaitReady(client, port);
        awaitChildConnected(client, port);
        for (int i = 0; i < 3; i++) {
          sent.add(conversation());
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> delivered().size() == 3);
        // every delivery's outcome written, so that nothing is sent again for the kill's sake
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> metric(client, port, "switchboard_backlog") == 0);
      } finally {
        first.destroyForcibly().waitFor(); // SIGKILL
      }
      // the fake sees the dead process's socket close
      await().atMost(Duration.ofSeconds(10)).until(() -> genesys.connectedSockets() == 0);
      List<String> whileDown = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        FakeGenesysCloud.Published p =
            genesys.conversation(QUEUE, Instant.now().minusSeconds(90), Instant.now(), "down");
        assertThat(p.sockets()).isZero();
        whileDown.add(p.conversationId());
      }
      sent.addAll(whileDown);

      Process second = ChildGateway.start(dir, config, port, SECRET, "second");
      try {
        ChildGateway.awaitReady(client, port);
        await().atMost(Duration.ofSeconds(30)).until(() -> delivered().size() >= sent.size());
        await()
            .during(Duration.ofSeconds(2))
            .atMost(Duration.ofSeconds(5))
            .until(() -> delivered().size() == sent.size());
        assertThat(delivered()).containsExactlyInAnyOrderElementsOf(sent).doesNotHaveDuplicates();
        JsonNode pull = childPull(client, port);
        assertThat(pull.path("backfilledEvents").asLong()).isGreaterThanOrEqualTo(4);
      } finally {
        second.destroy();
        second.waitFor();
      }
    }
  }

  static JsonNode childPull(HttpClient client, int port) throws Exception {
    HttpResponse<String> sources =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/sources"))
                .header("Authorization", "Bearer admin-token-for-it")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(sources.body()).path("items").get(0).path("pull");
  }

  static void awaitChildConnected(HttpClient client, int port) {
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(() -> "connected".equals(childPull(client, port).path("state").asText()));
  }

  static double metric(HttpClient client, int port, String name) throws Exception {
    String body =
        client
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    return body.lines()
        .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }
}
