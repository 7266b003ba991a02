package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code switchboard backup} on a store a running gateway keeps writing to: the copy holds every
 * event acknowledged before it started, each with its deliveries (one commit's worth, never half of
 * one), passes SQLite's check, and stands alone; an existing file is never overwritten.
 */
class BackupCommandIT {
  @TempDir Path dir;

  @Test
  void aCopyTakenWhileEventsPourInHoldsEveryEventAckedBeforeItEachWithItsDeliveries()
      throws Exception {
    try (FakeDestination receiver = new FakeDestination();
        GatewayFixture gateway =
            GatewayFixture.start(
                dir,
                """
                sources:
                  calls:
                    verify: { scheme: none }
                routes:
                  to-crm: { from: calls, to: crm }
                  to-log: { from: calls, to: crm }
                destinations:
                  crm: { type: http, url: "%s" }
                """
                    .formatted(receiver.uri("/in")),
                Map.of(),
                new MutableClock(Instant.parse("2026-12-07T10:00:00Z")))) {
      List<String> acked = new CopyOnWriteArrayList<>();
      AtomicBoolean pouring = new AtomicBoolean(true);
      Thread sender =
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int i = 0; pouring.get(); i++) {
                      try {
                        HttpResponse<String> answer =
                            gateway.post(
                                "calls",
                                GatewayFixture.utf8("{\"call\":" + i + "}"),
                                Map.of("Content-Type", "application/json"));
                        if (answer.statusCode() == 202) {
                          acked.add(
                              new ObjectMapper().readTree(answer.body()).path("eventId").asText());
                        }
                      } catch (Exception e) {
                        return;
                      }
                    }
                  });
      await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() >= 300);

      List<String> before = List.copyOf(acked);
      Path copy = dir.resolve("backup.db");
      Run backup =
          run(
              "backup",
              "--store",
              dir.resolve("switchboard.db").toString(),
              "--to",
              copy.toString());
      int ackedAfter = acked.size();
      await().atMost(Duration.ofSeconds(10)).until(() -> acked.size() >= ackedAfter + 50);
      pouring.set(false);
      sender.join(10_000);

      assertThat(backup.exit()).as(backup.err()).isZero();
      String summary =
          backup.out().lines().filter(l -> l.startsWith("backed up ")).findFirst().orElse("");
      assertThat(summary).contains(" events, ", " deliveries");
      assertThat(copy.resolveSibling("backup.db-wal")).doesNotExist();
      try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + copy);
          Statement sql = db.createStatement()) {
        Set<String> inCopy = new HashSet<>();
        try (ResultSet rows = sql.executeQuery("SELECT id FROM events")) {
          while (rows.next()) {
            inCopy.add(rows.getString(1));
          }
        }
        assertThat(inCopy).containsAll(before);
        // one sender: at most the one event whose answer was on its way when the copy ended
        assertThat(inCopy.size()).isBetween(before.size(), ackedAfter + 1);
        try (ResultSet rows =
            sql.executeQuery(
                "SELECT count(*) FROM events e WHERE"
                    + " (SELECT count(*) FROM deliveries d WHERE d.event_id = e.id) <> 2")) {
          rows.next();
          assertThat(rows.getLong(1)).as("events without both their deliveries").isZero();
        }
        try (ResultSet rows = sql.executeQuery("PRAGMA integrity_check")) {
          rows.next();
          assertThat(rows.getString(1)).isEqualTo("ok");
        }
      }
      assertThat(summary).contains(String.format("%,d events", inCopyCount(copy)));

      byte[] kept = Files.readAllBytes(copy);
      Run again =
          run(
              "backup",
              "--store",
              dir.resolve("switchboard.db").toString(),
              "--to",
              copy.toString());
      assertThat(again.exit()).isEqualTo(1);
      assertThat(again.err()).contains("exists already");
      assertThat(Files.readAllBytes(copy)).as("never overwritten").isEqualTo(kept);
    }
  }

  @Test
  void aStoreThatIsNotThereIsAClearError() throws Exception {
    Run backup =
        run(
            "backup",
            "--store",
            dir.resolve("nothing.db").toString(),
            "--to",
            dir.resolve("copy.db").toString());
    assertThat(backup.exit()).isEqualTo(1);
    assertThat(backup.err()).contains("no SQLite store at");
    assertThat(dir.resolve("copy.db")).doesNotExist();
  }

  static long inCopyCount(Path copy) throws Exception {
    try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + copy);
        Statement sql = db.createStatement();
        ResultSet rows = sql.executeQuery("SELECT count(*) FROM events")) {
      rows.next();
      return rows.getLong(1);
    }
  }

  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int exit = Main.commandLine().execute(args);
      return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }
}
