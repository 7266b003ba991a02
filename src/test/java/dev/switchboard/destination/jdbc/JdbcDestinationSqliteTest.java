package dev.switchboard.destination.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.OutboundDelivery;
import dev.switchboard.testing.DestinationConfigs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connector against SQLite, the second database with {@code ON CONFLICT}: the same plain JDBC,
 * a file in a temp folder.
 */
class JdbcDestinationSqliteTest {
  @TempDir Path dir;
  String url;
  JdbcDestination destination;

  @BeforeEach
  void createTable() throws Exception {
    url = "jdbc:sqlite:" + dir.resolve("tracking.db");
    sql(
        "CREATE TABLE interaction_tracking (conversation_id TEXT PRIMARY KEY, wrapup_code TEXT,"
            + " agent_id TEXT, attempts INTEGER, resolved INTEGER, details TEXT)",
        "CREATE TABLE strict_counts (id TEXT PRIMARY KEY, n INTEGER) STRICT");
    destination =
        new JdbcDestination(configFor("interaction_tracking", List.of("conversation_id")));
  }

  @AfterEach
  void close() {
    destination.close();
  }

  DestinationConfig configFor(String table, List<String> keys) {
    return DestinationConfigs.load(
        "tracking",
        "jdbc",
        Map.of("url", url, "table", table, "key_columns", keys),
        Duration.ofSeconds(5),
        4);
  }

  static OutboundDelivery delivery(String json) {
    return new OutboundDelivery(
        "d-1", "e-1", "d-1", "c-1", json.getBytes(StandardCharsets.UTF_8), Map.of(), 1);
  }

  void sql(String... statements) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement()) {
      for (String statement : statements) {
        s.execute(statement);
      }
    }
  }

  List<List<Object>> rows(String query) throws SQLException {
    List<List<Object>> rows = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<Object> row = new ArrayList<>();
        for (int i = 1; i <= columns; i++) {
          row.add(rs.getObject(i));
        }
        rows.add(row);
      }
    }
    return rows;
  }

  @Test
  void insertThenUpdateOfTheSameKeyLeavesOneRowWithTheLastValues() throws Exception {
    DeliveryResult first =
        destination.send(
            delivery(
                """
                {"conversation_id":"c-1","wrapup_code":"PENDING","agent_id":"a-1","attempts":1,
                 "resolved":false,"details":{"queue":"sales","tags":["x"]}}"""));
    assertThat(first).isInstanceOf(Delivered.class);
    DeliveryResult second =
        destination.send(
            delivery(
                """
                {"conversation_id":"c-1","wrapup_code":"RESOLVED","attempts":2,"resolved":true,
                 "details":null}"""));
    assertThat(second).isInstanceOf(Delivered.class);
    assertThat(
            rows(
                "SELECT conversation_id, wrapup_code, agent_id, attempts, resolved, details"
                    + " FROM interaction_tracking"))
        .containsExactly(Arrays.asList("c-1", "RESOLVED", "a-1", 2, 1, null));
  }

  @Test
  void nestedValuesAreStoredAsTheirJsonText() throws Exception {
    destination.send(
        delivery("{\"conversation_id\":\"c-2\",\"details\":{\"queue\":\"sales\",\"tags\":[1,2]}}"));
    assertThat(rows("SELECT details FROM interaction_tracking WHERE conversation_id = 'c-2'"))
        .containsExactly(List.of("{\"queue\":\"sales\",\"tags\":[1,2]}"));
  }

  @Test
  void aValueIsBoundNeverWrittenIntoTheStatement() throws Exception {
    String hostile = "x'); DROP TABLE interaction_tracking; --";
    assertThat(
            destination.send(
                delivery(
                    "{\"conversation_id\":\"c-3\",\"wrapup_code\":\""
                        + hostile.replace("\"", "\\\"")
                        + "\"}")))
        .isInstanceOf(Delivered.class);
    assertThat(rows("SELECT wrapup_code FROM interaction_tracking"))
        .containsExactly(List.of(hostile));
  }

  @Test
  void aBodyWithoutItsKeyColumnIsRejectedBeforeAnyStatement() throws Exception {
    assertThat(destination.send(delivery("{\"wrapup_code\":\"RESOLVED\"}")))
        .isInstanceOfSatisfying(
            Rejected.class,
            r ->
                assertThat(r.error())
                    .isEqualTo("key column conversation_id is missing or null in the body"));
    assertThat(destination.send(delivery("{\"conversation_id\":null,\"wrapup_code\":\"X\"}")))
        .isInstanceOf(Rejected.class);
    assertThat(rows("SELECT * FROM interaction_tracking")).isEmpty();
  }

  @Test
  void aFieldThatIsNoPlainColumnNameIsRejected() {
    assertThat(destination.send(delivery("{\"conversation_id\":\"c\",\"code\\\"; --\":\"x\"}")))
        .isInstanceOfSatisfying(
            Rejected.class,
            r ->
                assertThat(r.error()).isEqualTo("field \"code\"; --\" is not a plain column name"));
    assertThat(destination.send(delivery("[1,2]")))
        .isInstanceOfSatisfying(
            Rejected.class, r -> assertThat(r.error()).startsWith("body is not a JSON object"));
    assertThat(destination.send(delivery("not json")))
        .isInstanceOfSatisfying(
            Rejected.class, r -> assertThat(r.error()).isEqualTo("body is not JSON"));
  }

  @Test
  void anUnknownColumnIsRejectedWithTheSqlStateOfSqlitesError() {
    DeliveryResult result =
        destination.send(delivery("{\"conversation_id\":\"c\",\"no_such_column\":\"secret-x\"}"));
    assertThat(result)
        .isInstanceOfSatisfying(
            Rejected.class,
            r -> {
              assertThat(r.error()).contains("SQLState 42000");
              assertThat(r.excerpt()).contains("\"no_such_column\"").doesNotContain("secret-x");
            });
  }

  @Test
  void aValueOfTheWrongTypeInAStrictTableIsRejected() throws Exception {
    try (JdbcDestination strict = new JdbcDestination(configFor("strict_counts", List.of("id")))) {
      assertThat(strict.send(delivery("{\"id\":\"a\",\"n\":\"not-a-number\"}")))
          .isInstanceOfSatisfying(
              Rejected.class,
              r ->
                  assertThat(r.error())
                      .isEqualTo(
                          "rejected by the database: integrity constraint violation (SQLState 23000)"));
      assertThat(strict.send(delivery("{\"id\":\"a\",\"n\":41}"))).isInstanceOf(Delivered.class);
      assertThat(strict.send(delivery("{\"id\":\"a\",\"n\":42}"))).isInstanceOf(Delivered.class);
    }
    assertThat(rows("SELECT id, n FROM strict_counts")).containsExactly(List.of("a", 42));
  }

  @Test
  void onlyKeyColumnsInsertOnceAndChangeNothingAfter() throws Exception {
    assertThat(destination.send(delivery("{\"conversation_id\":\"c-9\"}")))
        .isInstanceOfSatisfying(
            Delivered.class,
            d -> assertThat(d.excerpt()).isEqualTo("upserted into interaction_tracking"));
    assertThat(destination.send(delivery("{\"conversation_id\":\"c-9\"}")))
        .isInstanceOfSatisfying(
            Delivered.class, d -> assertThat(d.excerpt()).isEqualTo("row unchanged"));
    assertThat(rows("SELECT conversation_id FROM interaction_tracking"))
        .containsExactly(List.of("c-9"));
  }

  @Test
  void theStatementQuotesEveryNameAndBindsEveryValue() {
    assertThat(destination.upsert(List.of("conversation_id", "wrapup_code", "agent_id")))
        .isEqualTo(
            "INSERT INTO \"interaction_tracking\" (\"conversation_id\", \"wrapup_code\","
                + " \"agent_id\") VALUES (?, ?, ?) ON CONFLICT (\"conversation_id\") DO UPDATE SET"
                + " \"wrapup_code\" = EXCLUDED.\"wrapup_code\", \"agent_id\" = EXCLUDED.\"agent_id\"");
  }

  @Test
  void settingsThatCannotWorkFailAtStartWithoutTheUrl() {
    assertThatThrownBy(() -> new JdbcDestination(configFor("t", List.of("a b"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad column \"a b\": expected a plain column name");
    assertThatThrownBy(() -> new JdbcDestination(configFor("t", List.of())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one column");
    assertThatThrownBy(() -> new JdbcDestination(configFor("t", List.of("id", "id"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("key_columns names a column twice");
    DestinationConfig unknownDriver =
        DestinationConfigs.load(
            "tracking",
            "jdbc",
            Map.of(
                "url", "jdbc:nosuchdb://db/crm?password=hunter2",
                "table", "t",
                "key_columns", List.of("id")),
            Duration.ofSeconds(5),
            4);
    assertThatThrownBy(() -> new JdbcDestination(unknownDriver))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("destination tracking: no JDBC driver for jdbc:nosuchdb URLs")
        .hasNoCause();
  }
}
