package dev.switchboard.destination.jdbc;

import static dev.switchboard.testing.GatewayFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.app.Gateway;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventId;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.testing.EmbeddedPostgres;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tracking store end to end: signed events posted to a real gateway, delivered through a route
 * with {@code ordering: per-key} and {@code stale: skip} into a table of a real PostgreSQL.
 */
class JdbcDeliveryIT {
  static final String SECRET = "acw-webhook-secret";
  static final ObjectMapper JSON = new ObjectMapper();
  static final AtomicInteger SEQ = new AtomicInteger();
  static final Instant T0 = Instant.parse("2026-10-27T14:30:00Z");

  static EmbeddedPostgres pg;

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T14:30:05Z"));
  GatewayFixture gw;

  @BeforeAll
  static void startDatabase() {
    pg = EmbeddedPostgres.start();
    pg.createDatabase("crm");
    pg.execute(
        "crm",
        "CREATE ROLE switchboard LOGIN PASSWORD 'tracking-pw'",
        """
        CREATE TABLE interaction_tracking (
          conversation_id text PRIMARY KEY,
          wrapup_code text,
          agent_id text,
          updated_at timestamptz)""",
        "GRANT SELECT, INSERT, UPDATE ON interaction_tracking TO switchboard");
  }

  @AfterAll
  static void stopDatabase() {
    pg.close();
  }

  @BeforeEach
  void startGateway() throws Exception {
    pg.execute("crm", "TRUNCATE interaction_tracking");
    String yaml =
        """
        sources:
          genesys-acw:
            verify: { scheme: hmac-sha256-hex, header: X-Signature, secrets: ["${SECRET}"] }
            idempotency: { key: id }
            event_time: eventTime
            partition_key: conversationId
          mislabelled:
            verify: { scheme: hmac-sha256-hex, header: X-Signature, secrets: ["${SECRET}"] }
            idempotency: { key: id }
            partition_key: conversationId
        routes:
          acw-to-tracking-table:
            from: genesys-acw
            ordering: per-key
            stale: skip
            to: tracking-table
            transform: |
              {
                "conversation_id": conversationId,
                "wrapup_code": wrapupCode,
                "agent_id": userId,
                "updated_at": $fromMillis(eventTime)
              }
          camel-case-columns:
            from: mislabelled
            to: tracking-table
            transform: |
              { "conversation_id": conversationId, "wrapupCode": wrapupCode }
        destinations:
          tracking-table:
            type: jdbc
            url: ${TRACKING_DB_URL}
            user: ${TRACKING_DB_USER}
            password: ${TRACKING_DB_PASSWORD}
            table: interaction_tracking
            key_columns: [conversation_id]
            concurrency: 4
            connect_timeout: 1s
            retry: { initial: 1s, max_delay: 1m }
        """;
    gw = GatewayFixture.start(dir, yaml, env(), clock);
  }

  @AfterEach
  void stopGateway() {
    if (gw != null) {
      gw.close();
    }
    if (!pg.running()) {
      pg.startAgain();
    }
  }

  static Map<String, String> env() {
    return Map.of(
        "SECRET",
        SECRET,
        "TRACKING_DB_URL",
        pg.jdbcUrl("crm"),
        "TRACKING_DB_USER",
        "switchboard",
        "TRACKING_DB_PASSWORD",
        "tracking-pw");
  }

  /** Posts one signed after-call-work event and returns its event id. */
  String post(String source, String conversationId, Instant eventTime, String wrapupCode)
      throws Exception {
    String body =
        JSON.writeValueAsString(
            conversationId == null
                ? Map.of("id", "ev-" + SEQ.incrementAndGet(), "wrapupCode", wrapupCode)
                : Map.of(
                    "id",
                    "ev-" + SEQ.incrementAndGet(),
                    "conversationId",
                    conversationId,
                    "userId",
                    "agent-7",
                    "wrapupCode",
                    wrapupCode,
                    "eventTime",
                    eventTime.toEpochMilli()));
    HttpResponse<String> answer =
        gw.post(source, utf8(body), Map.of("X-Signature", Hmac.sha256Hex(SECRET, utf8(body))));
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
    return JSON.readTree(answer.body()).path("eventId").asText();
  }

  String post(String conversationId, Instant eventTime, String wrapupCode) throws Exception {
    return post("genesys-acw", conversationId, eventTime, wrapupCode);
  }

  DeliveryRecord delivery(Gateway gateway, String eventId) {
    List<DeliveryRecord> all = gateway.deliveries().deliveriesOf(new EventId(eventId));
    assertThat(all).hasSize(1);
    return all.get(0);
  }

  DeliveryRecord delivery(String eventId) {
    return delivery(gw.gateway(), eventId);
  }

  void awaitState(String eventId, DeliveryState state) {
    await().atMost(Duration.ofSeconds(10)).until(() -> delivery(eventId).state() == state);
  }

  static List<List<String>> rows() throws Exception {
    List<List<String>> rows = new ArrayList<>();
    try (Connection c = pg.connect("crm");
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT conversation_id, wrapup_code, agent_id,"
                    + " to_char(updated_at AT TIME ZONE 'UTC', 'HH24:MI:SS')"
                    + " FROM interaction_tracking ORDER BY conversation_id")) {
      while (rs.next()) {
        rows.add(List.of(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
      }
    }
    return rows;
  }

  @Test
  void eachConversationKeepsOneRowWithItsLatestEvent() throws Exception {
    String pending = post("conv-1", T0, "PENDING");
    awaitState(pending, DeliveryState.DELIVERED);
    assertThat(rows()).containsExactly(List.of("conv-1", "PENDING", "agent-7", "14:30:00"));

    String resolved = post("conv-1", T0.plusSeconds(60), "RESOLVED");
    String other = post("conv-2", T0, "TRANSFERRED");
    awaitState(resolved, DeliveryState.DELIVERED);
    awaitState(other, DeliveryState.DELIVERED);
    assertThat(rows())
        .containsExactly(
            List.of("conv-1", "RESOLVED", "agent-7", "14:31:00"),
            List.of("conv-2", "TRANSFERRED", "agent-7", "14:30:00"));
  }

  @Test
  void aLateOlderEventNeverOverwritesANewerOne() throws Exception {
    String resolved = post("conv-3", T0.plusSeconds(60), "RESOLVED");
    awaitState(resolved, DeliveryState.DELIVERED);
    String latePending = post("conv-3", T0, "PENDING");
    awaitState(latePending, DeliveryState.SKIPPED);
    assertThat(delivery(latePending).attempts()).isZero();
    assertThat(rows()).containsExactly(List.of("conv-3", "RESOLVED", "agent-7", "14:31:00"));
  }

  @Test
  void anEventWithoutTheKeyColumnIsDeadLettered() throws Exception {
    String eventId = post(null, T0, "RESOLVED");
    awaitState(eventId, DeliveryState.DEAD);
    assertThat(delivery(eventId).lastError())
        .isEqualTo("key column conversation_id is missing or null in the body");
    assertThat(rows()).isEmpty();
  }

  @Test
  void aColumnTheTableDoesNotHaveIsDeadLetteredWithItsSqlState() throws Exception {
    String eventId = post("mislabelled", "conv-4", T0, "RESOLVED");
    awaitState(eventId, DeliveryState.DEAD);
    assertThat(delivery(eventId).lastError())
        .isEqualTo("rejected by the database: undefined column (SQLState 42703)");
    assertThat(gw.gateway().deliveries().attempts(delivery(eventId).id()))
        .singleElement()
        .satisfies(
            a -> assertThat(a.excerpt()).contains("\"wrapupCode\"").doesNotContain("RESOLVED"));
    assertThat(rows()).isEmpty();
  }

  @Test
  void whileTheDatabaseIsDownDeliveriesWaitAndArriveWhenItIsBack() throws Exception {
    String first = post("conv-5", T0, "PENDING");
    awaitState(first, DeliveryState.DELIVERED);

    pg.stop();
    String second = post("conv-5", T0.plusSeconds(30), "RESOLVED");
    awaitState(second, DeliveryState.RETRY_SCHEDULED);
    assertThat(delivery(second).errorClass()).isEqualTo("connection");
    assertThat(databaseRefusesConnections()).isTrue();

    pg.startAgain();
    // The pool reconnects within a few seconds (its reconnect backoff); meanwhile attempts go on
    // failing as retries. Time passes on the gateway's clock, so the backoff elapses.
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(250))
        .until(
            () -> {
              clock.advance(Duration.ofSeconds(5));
              return delivery(second).state() == DeliveryState.DELIVERED;
            });
    assertThat(gw.gateway().deliveries().attempts(delivery(second).id()))
        .extracting(a -> a.outcome())
        .last()
        .isEqualTo("delivered");
    assertThat(gw.gateway().deliveries().attempts(delivery(second).id()))
        .extracting(a -> a.outcome())
        .containsOnly("retry", "delivered");
    assertThat(rows()).containsExactly(List.of("conv-5", "RESOLVED", "agent-7", "14:30:30"));
  }

  /** The server really is down: a direct connection is refused too. */
  static boolean databaseRefusesConnections() {
    try (Connection ignored = pg.connect("crm")) {
      return false;
    } catch (java.sql.SQLException e) {
      return "08001".equals(e.getSQLState());
    }
  }

  @Test
  void theExampleConfigurationDeliversIntoPostgres() throws Exception {
    gw.close();
    gw = null;
    Map<String, String> env =
        Map.of(
            "HOST", "127.0.0.1",
            "PORT", "0",
            "DATA_DIR", dir.toString(),
            "ACW_WEBHOOK_SECRET", SECRET,
            "TRACKING_DB_URL", pg.jdbcUrl("crm"),
            "TRACKING_DB_USER", "switchboard",
            "TRACKING_DB_PASSWORD", "tracking-pw");
    try (Gateway gateway =
            Gateway.start(
                ConfigLoader.load(Path.of("examples/jdbc.yaml"), env), clock, GatewayFixture.FAST);
        HttpClient client = HttpClient.newHttpClient()) {
      String body =
          """
          {"id":"ev-example","conversationId":"conv-6","userId":"agent-9",\
          "wrapupCode":"RESOLVED","eventTime":%d}"""
              .formatted(T0.toEpochMilli());
      HttpResponse<String> answer =
          client.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + gateway.port() + "/hooks/genesys-acw"))
                  .timeout(Duration.ofSeconds(10))
                  .header("Content-Type", "application/json")
                  .header("X-Signature", Hmac.sha256Hex(SECRET, utf8(body)))
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
      String eventId = JSON.readTree(answer.body()).path("eventId").asText();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> delivery(gateway, eventId).state() == DeliveryState.DELIVERED);
      assertThat(rows()).containsExactly(List.of("conv-6", "RESOLVED", "agent-9", "14:30:00"));
    }
  }
}
