package dev.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The test helper itself: whoever runs the tests (root in CI), the server runs and restarts. */
class EmbeddedPostgresIT {
  static EmbeddedPostgres pg;

  @BeforeAll
  static void start() {
    pg = EmbeddedPostgres.start();
  }

  @AfterAll
  static void stop() {
    pg.close();
  }

  @Test
  void serverRunsAsAnUnprivilegedUserAndAnswersOnLoopback() throws Exception {
    try (Connection c = pg.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT current_setting('server_version_num')::int,"
                    + " current_setting('listen_addresses'), inet_server_addr()::text")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).isGreaterThanOrEqualTo(170000);
      assertThat(rs.getString(2)).isEqualTo("127.0.0.1");
      assertThat(rs.getString(3)).startsWith("127.0.0.1");
    }
  }

  @Test
  void tcpLoginNeedsThePassword() {
    assertThatThrownBy(
            () -> DriverManager.getConnection(pg.jdbcUrl(), EmbeddedPostgres.USER, "wrong"))
        .isInstanceOf(SQLException.class)
        .extracting(e -> ((SQLException) e).getSQLState())
        .isEqualTo("28P01");
  }

  @Test
  void stopsAndStartsAgainOnTheSamePortWithItsData() throws Exception {
    pg.execute("postgres", "CREATE TABLE kept (id int)", "INSERT INTO kept VALUES (7)");
    pg.stop();
    assertThat(pg.running()).isFalse();
    assertThatThrownBy(
            () -> {
              try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", pg.port()), 1000);
              }
            })
        .isInstanceOf(java.io.IOException.class);
    pg.startAgain();
    try (Connection c = pg.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id FROM kept")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).isEqualTo(7);
    } finally {
      pg.execute("postgres", "DROP TABLE kept");
    }
  }
}
