package dev.switchboard.destination.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.testing.DestinationConfigs;
import dev.switchboard.testing.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The connector against a real PostgreSQL (embedded, on 127.0.0.1), logging in as an ordinary role
 * with a password, as a production tracking store would be used.
 */
class JdbcDestinationIT {
  static final String DB = "tracking";
  static final String ROLE = "tracker";
  static final String ROLE_PASSWORD = "tracker-pw";

  static EmbeddedPostgres pg;
  final List<JdbcDestination> opened = new ArrayList<>();

  @BeforeAll
  static void startDatabase() {
    pg = EmbeddedPostgres.start();
    pg.createDatabase(DB);
    pg.execute(
        DB,
        "CREATE ROLE " + ROLE + " LOGIN PASSWORD '" + ROLE_PASSWORD + "'",
        """
        CREATE TABLE interaction_tracking (
          conversation_id text PRIMARY KEY,
          wrapup_code text,
          agent_id text,
          updated_at timestamptz,
          attempts integer,
          score numeric(10, 3),
          resolved boolean,
          details jsonb,
          contact_email text UNIQUE)""",
        "CREATE SCHEMA crm",
        """
        CREATE TABLE crm.queue_stats (
          queue_id uuid, day date, calls bigint, PRIMARY KEY (queue_id, day))""",
        "CREATE TABLE no_key (id text, v text)",
        "CREATE TABLE private_notes (id text PRIMARY KEY, note text)",
        "GRANT USAGE ON SCHEMA crm TO " + ROLE,
        "GRANT SELECT, INSERT, UPDATE ON interaction_tracking, crm.queue_stats, no_key TO " + ROLE);
  }

  @AfterAll
  static void stopDatabase() {
    pg.close();
  }

  @BeforeEach
  void emptyTables() {
    pg.execute(DB, "TRUNCATE interaction_tracking, crm.queue_stats, no_key");
  }

  @AfterEach
  void closeDestinations() {
    opened.forEach(JdbcDestination::close);
  }

  JdbcDestination destination(String table, List<String> keys, Map<String, Object> extra) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("url", pg.jdbcUrl(DB));
    settings.put("user", ROLE);
    settings.put("password", ROLE_PASSWORD);
    settings.put("table", table);
    settings.put("key_columns", keys);
    settings.put("connect_timeout", "1s");
    settings.putAll(extra);
    JdbcDestination destination =
        new JdbcDestination(
            DestinationConfigs.load("tracking", "jdbc", settings, Duration.ofSeconds(1), 4));
    opened.add(destination);
    return destination;
  }

  JdbcDestination tracking() {
    return destination("interaction_tracking", List.of("conversation_id"), Map.of());
  }

  static OutboundDelivery delivery(String json) {
    return new OutboundDelivery(
        "d-1", "e-1", "d-1", "c-1", json.getBytes(StandardCharsets.UTF_8), Map.of(), 1);
  }

  static List<List<Object>> rows(String query) throws SQLException {
    List<List<Object>> rows = new ArrayList<>();
    try (Connection c = pg.connect(DB);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<Object> row = new ArrayList<>();
        for (int i = 1; i <= columns; i++) {
          row.add(rs.getObject(i) == null ? null : rs.getString(i));
        }
        rows.add(row);
      }
    }
    return rows;
  }

  static String errorOf(DeliveryResult result) {
    return switch (result) {
      case Rejected r -> r.error();
      case RetryLater r -> r.error();
      case Delivered d -> throw new AssertionError("delivered: " + d);
    };
  }

  @Test
  void insertThenUpdateOfTheSameKeyLeavesOneRowWithTheLastValues() throws Exception {
    JdbcDestination destination = tracking();
    assertThat(
            destination.send(
                delivery(
                    """
                    {"conversation_id":"c-1","wrapup_code":"PENDING","agent_id":"a-1",
                     "updated_at":"2026-10-27T14:30:00Z","attempts":1,"score":1.5,
                     "resolved":false,"details":{"queue":"sales","tags":["vip"]}}""")))
        .isInstanceOf(Delivered.class);
    assertThat(
            destination.send(
                delivery(
                    """
                    {"conversation_id":"c-1","wrapup_code":"RESOLVED",
                     "updated_at":"2026-10-27T15:00:00.250+01:00","attempts":2,"score":12.345,
                     "resolved":true,"details":null}""")))
        .isInstanceOfSatisfying(
            Delivered.class,
            d -> assertThat(d.excerpt()).isEqualTo("upserted into interaction_tracking"));
    assertThat(
            rows(
                "SELECT conversation_id, wrapup_code, agent_id,"
                    + " updated_at = timestamptz '2026-10-27 14:00:00.25+00', attempts, score,"
                    + " resolved, details FROM interaction_tracking"))
        .containsExactly(
            Arrays.asList(
                "c-1",
                "RESOLVED",
                "a-1", // not in the second body: kept
                "t",
                "2",
                "12.345",
                "t",
                null));
  }

  @Test
  void stringsTakeTheColumnsTypeAndNestedValuesGoIntoJsonb() throws Exception {
    JdbcDestination stats = destination("crm.queue_stats", List.of("queue_id", "day"), Map.of());
    String body =
        """
        {"queue_id":"4f6c2b9e-3d1a-4c8e-9a7b-2e5f1d0c3b4a","day":"2026-10-27",
         "calls":9007199254740993}""";
    assertThat(stats.send(delivery(body))).isInstanceOf(Delivered.class);
    assertThat(stats.send(delivery(body.replace("9007199254740993", "9007199254740995"))))
        .isInstanceOf(Delivered.class);
    assertThat(rows("SELECT queue_id, day, calls FROM crm.queue_stats"))
        .containsExactly(
            List.of("4f6c2b9e-3d1a-4c8e-9a7b-2e5f1d0c3b4a", "2026-10-27", "9007199254740995"));

    tracking()
        .send(
            delivery(
                "{\"conversation_id\":\"c-2\",\"details\":{\"queue\":\"sales\",\"tags\":[\"vip\"]}}"));
    assertThat(
            rows(
                "SELECT details->>'queue', details->'tags'->>0, jsonb_typeof(details)"
                    + " FROM interaction_tracking"))
        .containsExactly(List.of("sales", "vip", "object"));
  }

  @Test
  void aValueIsBoundNeverWrittenIntoTheStatement() throws Exception {
    String hostile = "x'); DROP TABLE interaction_tracking; --";
    assertThat(
            tracking()
                .send(
                    delivery("{\"conversation_id\":\"c-3\",\"wrapup_code\":\"" + hostile + "\"}")))
        .isInstanceOf(Delivered.class);
    assertThat(rows("SELECT wrapup_code FROM interaction_tracking"))
        .containsExactly(List.of(hostile));
  }

  @Test
  void aBodyWithoutItsKeyColumnIsRejected() throws Exception {
    assertThat(tracking().send(delivery("{\"wrapup_code\":\"RESOLVED\"}")))
        .isInstanceOfSatisfying(
            Rejected.class,
            r ->
                assertThat(r.error())
                    .isEqualTo("key column conversation_id is missing or null in the body"));
    assertThat(rows("SELECT * FROM interaction_tracking")).isEmpty();
  }

  @Test
  void anUnknownColumnIsRejectedWithItsSqlState() {
    DeliveryResult result =
        tracking().send(delivery("{\"conversation_id\":\"c-4\",\"wrapupCode\":\"secret-code\"}"));
    assertThat(result)
        .isInstanceOfSatisfying(
            Rejected.class,
            r -> {
              assertThat(r.error())
                  .isEqualTo("rejected by the database: undefined column (SQLState 42703)");
              assertThat(r.excerpt()).contains("\"wrapupCode\"").doesNotContain("secret-code");
            });
  }

  @Test
  void refusedDataIsRejectedWithoutQuotingTheValue() throws Exception {
    JdbcDestination destination = tracking();
    assertThat(
            errorOf(
                destination.send(
                    delivery("{\"conversation_id\":\"c-5\",\"attempts\":\"secret-many\"}"))))
        .isEqualTo("rejected by the database: invalid text representation (SQLState 22P02)");
    assertThat(
            destination.send(
                delivery("{\"conversation_id\":\"c-6\",\"contact_email\":\"secret@example.com\"}")))
        .isInstanceOf(Delivered.class);
    DeliveryResult duplicate =
        destination.send(
            delivery("{\"conversation_id\":\"c-7\",\"contact_email\":\"secret@example.com\"}"));
    assertThat(duplicate)
        .isInstanceOfSatisfying(
            Rejected.class,
            r -> {
              assertThat(r.error())
                  .isEqualTo("rejected by the database: unique violation (SQLState 23505)");
              assertThat(r.error() + r.excerpt()).doesNotContain("secret");
            });
  }

  @Test
  void aTableTheConnectorCannotUseIsRejectedWithItsSqlState() {
    assertThat(
            errorOf(
                destination("no_such_table", List.of("id"), Map.of())
                    .send(delivery("{\"id\":\"1\"}"))))
        .endsWith("(SQLState 42P01)");
    assertThat(
            errorOf(
                destination("no_key", List.of("id"), Map.of()).send(delivery("{\"id\":\"1\"}"))))
        .isEqualTo(
            "rejected by the database: no unique constraint matches key_columns (SQLState 42P10)");
    assertThat(
            errorOf(
                destination("private_notes", List.of("id"), Map.of())
                    .send(delivery("{\"id\":\"1\"}"))))
        .isEqualTo("rejected by the database: insufficient privilege (SQLState 42501)");
  }

  @Test
  void aRowLockedPastTheTimeoutIsRetriedThenDelivered() throws Exception {
    JdbcDestination destination = tracking();
    destination.send(delivery("{\"conversation_id\":\"c-8\",\"wrapup_code\":\"PENDING\"}"));
    try (Connection other = pg.connect(DB);
        Statement s = other.createStatement()) {
      other.setAutoCommit(false);
      s.execute("SELECT * FROM interaction_tracking WHERE conversation_id = 'c-8' FOR UPDATE");
      long started = System.nanoTime();
      DeliveryResult blocked =
          destination.send(delivery("{\"conversation_id\":\"c-8\",\"wrapup_code\":\"RESOLVED\"}"));
      assertThat(blocked)
          .isInstanceOfSatisfying(
              RetryLater.class,
              r -> assertThat(r.error()).isEqualTo("timeout: statement timeout (SQLState 57014)"));
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
      other.commit();
    }
    assertThat(
            destination.send(
                delivery("{\"conversation_id\":\"c-8\",\"wrapup_code\":\"RESOLVED\"}")))
        .isInstanceOf(Delivered.class);
    assertThat(rows("SELECT wrapup_code FROM interaction_tracking"))
        .containsExactly(List.of("RESOLVED"));
  }

  @Test
  void aLockTimeoutIsRetried() throws Exception {
    JdbcDestination destination =
        destination(
            "interaction_tracking",
            List.of("conversation_id"),
            Map.of("url", pg.jdbcUrl(DB) + "?options=-c%20lock_timeout=100"));
    destination.send(delivery("{\"conversation_id\":\"c-9\"}"));
    try (Connection other = pg.connect(DB);
        Statement s = other.createStatement()) {
      other.setAutoCommit(false);
      s.execute("SELECT * FROM interaction_tracking WHERE conversation_id = 'c-9' FOR UPDATE");
      assertThat(
              errorOf(
                  destination.send(
                      delivery("{\"conversation_id\":\"c-9\",\"wrapup_code\":\"X\"}"))))
          .isEqualTo("database unavailable: lock not available (SQLState 55P03)");
      other.rollback();
    }
  }

  @Test
  void aRefusedLoginIsRetried() {
    JdbcDestination destination =
        destination(
            "interaction_tracking", List.of("conversation_id"), Map.of("password", "wrong"));
    DeliveryResult result = destination.send(delivery("{\"conversation_id\":\"c-10\"}"));
    assertThat(result)
        .isInstanceOfSatisfying(
            RetryLater.class,
            r -> {
              assertThat(r.error()).isEqualTo("connection error: login refused (SQLState 28P01)");
              assertThat(r.error() + r.excerpt()).doesNotContain("wrong");
            });
  }

  @Test
  void aDatabaseThatGoesAwayIsRetriedAndDeliveredOnceItIsBack() throws Exception {
    JdbcDestination destination = tracking();
    assertThat(destination.send(delivery("{\"conversation_id\":\"c-11\",\"attempts\":1}")))
        .isInstanceOf(Delivered.class);
    pg.stop();
    try {
      // a pooled session ended by the shutdown, or no session at all: either way, later
      assertThat(destination.send(delivery("{\"conversation_id\":\"c-11\",\"attempts\":2}")))
          .isInstanceOfSatisfying(
              RetryLater.class, r -> assertThat(r.error()).startsWith("connection error: "));
      long started = System.nanoTime();
      assertThat(destination.send(delivery("{\"conversation_id\":\"c-11\",\"attempts\":2}")))
          .isInstanceOfSatisfying(
              RetryLater.class,
              r ->
                  assertThat(r.error())
                      .isEqualTo("connection error: connection exception (SQLState 08001)"));
      // bounded by connect_timeout (1s), not by the driver's own defaults
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    } finally {
      pg.startAgain();
    }
    // the pool reconnects within its reconnect backoff (a few seconds): until then, retries
    List<DeliveryResult> afterRestart = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              afterRestart.add(
                  destination.send(delivery("{\"conversation_id\":\"c-11\",\"attempts\":3}")));
              return afterRestart.getLast() instanceof Delivered;
            });
    assertThat(afterRestart.subList(0, afterRestart.size() - 1))
        .allSatisfy(r -> assertThat(r).isInstanceOf(RetryLater.class));
    assertThat(rows("SELECT attempts FROM interaction_tracking")).containsExactly(List.of("3"));
  }

  @Test
  void closingTheDestinationClosesItsConnections() throws Exception {
    JdbcDestination destination = tracking();
    destination.send(delivery("{\"conversation_id\":\"c-12\"}"));
    String count =
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'switchboard'"
            + " AND usename = '"
            + ROLE
            + "'";
    assertThat(Integer.parseInt((String) rows(count).get(0).get(0))).isPositive();
    destination.close();
    await().atMost(Duration.ofSeconds(5)).until(() -> rows(count).get(0).get(0).equals("0"));
  }
}
