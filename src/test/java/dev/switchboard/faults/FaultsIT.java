package dev.switchboard.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.faults.FlappingDestination.Mode;
import dev.switchboard.faults.FlappingDestination.Phase;
import dev.switchboard.faults.InvariantChecker.Report;
import dev.switchboard.faults.InvariantChecker.Setup;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.EmbeddedPostgres;
import dev.switchboard.testing.GatewayFixture;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault harness (issue "Hardening", part "Faults"): load through the gateway while it is killed
 * with SIGKILL, while the destination flaps, while the disk under the store is full, and while
 * PostgreSQL is down under a three-node cluster; after each, {@link InvariantChecker} proves the
 * guarantees of docs/guarantees.md. Short by default (part of {@code ./mvnw verify}); {@code
 * bench/faults.sh} runs the same scenarios for minutes through the {@code faults.*} system
 * properties, and each scenario writes its report to {@code faults.out} (default target/faults).
 */
@Timeout(value = 60, unit = TimeUnit.MINUTES) // each scenario bounds itself far below this
class FaultsIT {
  static final String SECRET = "faults-secret";
  static final String SOURCE = "calls";
  static final int BREAKER_FAILURES = 5;
  static final Duration OPEN_FOR = Duration.ofSeconds(2);
  static final Duration TIMEOUT = Duration.ofSeconds(1);
  static final Duration TOLERANCE = Duration.ofMillis(400);

  /**
   * The child's dispatcher heartbeat (lease renewal and reaping). An attempt whose outcome could
   * not be written (disk full) has it written again while its lease (2 x timeout + 3 x heartbeat)
   * lasts; one still unwritten then (or in flight at a SIGKILL) waits for the reaper to return it:
   * the drain allows for that. The tests use 500 ms to stay short; bench/faults.sh passes the
   * production default (20 s).
   */
  static final long HEARTBEAT_MS = prop("heartbeat_ms", 500);

  static final Duration DRAIN =
      TIMEOUT.multipliedBy(2).plusMillis(3 * HEARTBEAT_MS).plusSeconds(25);
  static final String HEARTBEAT = "-Dswitchboard.dispatch.heartbeat=" + HEARTBEAT_MS;
  static final Path OUT = Path.of(System.getProperty("faults.out", "target/faults"));

  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  static long prop(String name, long defaultValue) {
    return Long.getLong("faults." + name, defaultValue);
  }

  static String routes(String url) {
    return """
        sources:
          calls:
            verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["${SECRET}"] }
            idempotency: { key: interactionId }
        routes:
          to-crm: { from: calls, to: crm }
        destinations:
          crm:
            type: http
            url: "%s"
            concurrency: 4
            timeout: %dms
            retry: { initial: 200ms, max_delay: 2s, max_attempts: 100000, max_age: 2h, max_server_delay: 1m }
            circuit_breaker: { failures: %d, open_for: %dms }
        """
        .formatted(url, TIMEOUT.toMillis(), BREAKER_FAILURES, OPEN_FOR.toMillis());
  }

  Path childConfig(Path db, String url) throws IOException {
    Path config = dir.resolve("switchboard.yaml");
    Files.writeString(
        config,
        "server: { host: 127.0.0.1, port: \"${PORT}\" }\nstore: { path: \"%s\" }\n".formatted(db)
            + routes(url));
    return config;
  }

  static Setup setup(List<Long> restarts, boolean breaker) {
    return new Setup(SOURCE, BREAKER_FAILURES, OPEN_FOR, TOLERANCE, restarts, breaker);
  }

  /**
   * Waits until nothing is left to deliver, as long as the backlog keeps shrinking: it gives up
   * (and the checker reports what is left) when the count of unfinished deliveries has not gone
   * down for {@link #DRAIN} (which covers a lease running out), or after 15 minutes in all.
   */
  static void drain(Connection c, Duration stall) {
    long[] best = {Long.MAX_VALUE, System.nanoTime()};
    try {
      await()
          .atMost(Duration.ofMinutes(15))
          .pollInterval(Duration.ofMillis(200))
          .ignoreExceptions()
          .until(
              () -> {
                long left = InvariantChecker.unfinished(c);
                if (left < best[0]) {
                  best[0] = left;
                  best[1] = System.nanoTime();
                }
                return left == 0 || System.nanoTime() - best[1] > stall.toNanos();
              });
    } catch (ConditionTimeoutException e) {
      // reported by the checker
    }
  }

  static void hold(Duration d) {
    // the length of a fault window, not synchronisation
    await().pollDelay(d).atMost(d.plusSeconds(5)).until(() -> true);
  }

  static Report report(
      String scenario,
      String description,
      LoadClient load,
      FlappingDestination fake,
      Report report,
      Map<String, Object> extra)
      throws IOException {
    StringBuilder md = new StringBuilder();
    md.append("## ").append(scenario).append("\n\n").append(description).append("\n\n");
    md.append(
        ("- load: %d events sent; answers by status: %s. Then every event without a 2xx was sent"
                + " once more (%d events; \"retry: 200\" = a duplicate of an event stored although"
                + " its first answer was not a 2xx). %d events 2xx'd in all.\n")
            .formatted(load.sent(), load.statuses(), load.retried(), load.acked()));
    md.append(
        "- destination: %d requests, by mode %s\n"
            .formatted(fake.receipts().size(), fake.countsByMode()));
    extra.forEach((k, v) -> md.append("- ").append(k).append(": ").append(v).append('\n'));
    md.append("- result: ")
        .append(report.allHeld() ? "every invariant held" : "**INVARIANT FAILED**");
    md.append("\n\n").append(report.markdown()).append('\n');
    Files.createDirectories(OUT);
    Files.writeString(OUT.resolve(scenario + ".md"), md);
    try (var w = Files.newBufferedWriter(OUT.resolve(scenario + "-receipts.tsv"))) {
      for (FlappingDestination.Receipt r : fake.receipts()) {
        w.write(r.line());
        w.newLine();
      }
    }
    System.out.println(md);
    return report;
  }

  /**
   * The end of a SQLite scenario: waits for the store at {@code db} to drain (giving up after
   * {@code stall} without progress), checks the invariants and writes the scenario's report.
   */
  static Report checkSqlite(
      Path db,
      Duration stall,
      String scenario,
      String description,
      LoadClient load,
      FlappingDestination fake,
      List<Long> restarts,
      Map<String, Object> extra)
      throws Exception {
    try (Connection c = InvariantChecker.connect("jdbc:sqlite:" + db, null, null)) {
      drain(c, stall);
      return report(
          scenario,
          description,
          load,
          fake,
          InvariantChecker.check(c, setup(restarts, true), load.acks(), fake.receipts()),
          extra);
    }
  }

  @Test
  void killedWithSigkillRepeatedly() throws Exception {
    int kills = (int) prop("kill.kills", 3);
    Duration every = Duration.ofMillis(prop("kill.every_ms", 2_000));
    Path db = dir.resolve("sb.db");
    int port = ChildGateway.freePort();
    List<Long> restarts = new ArrayList<>();
    try (FlappingDestination fake = new FlappingDestination();
        HttpClient client = HttpClient.newHttpClient()) {
      Path config = childConfig(db, fake.url("/crm"));
      Process child = ChildGateway.start(dir, config, port, SECRET, "kill-0", HEARTBEAT);
      try {
        ChildGateway.awaitReady(client, port);
        IntSupplier p = () -> port;
        try (LoadClient load =
            new LoadClient("kill", SOURCE, SECRET, List.of(p), (int) prop("rate", 100), 200)) {
          for (int k = 1; k <= kills; k++) {
            hold(every);
            child.destroyForcibly(); // SIGKILL
            child.waitFor();
            restarts.add(System.currentTimeMillis());
            child = ChildGateway.start(dir, config, port, SECRET, "kill-" + k, HEARTBEAT);
            ChildGateway.awaitReady(client, port);
          }
          hold(every);
          load.stop();
          load.retryUnacknowledged(); // as an at-least-once sender would
          Report r =
              checkSqlite(
                  db,
                  DRAIN,
                  "kill",
                  "SQLite, the packaged jar in a child JVM killed with SIGKILL %d times, every %d ms, under load; restarted at once."
                      .formatted(kills, every.toMillis()),
                  load,
                  fake,
                  restarts,
                  Map.of("kills", kills));
          assertThat(load.acked()).isPositive();
          assertThat(r.allHeld()).as(r.markdown()).isTrue();
        }
      } finally {
        child.destroyForcibly().waitFor();
      }
    }
  }

  @Test
  void destinationFlaps() throws Exception {
    Duration length = Duration.ofSeconds(prop("flap.seconds", 12));
    Path db = dir.resolve("sb.db");
    int port = ChildGateway.freePort();
    // each fault is followed by 2.2 s of 200s: longer than the breaker's open_for (2 s), so the
    // probe succeeds and the next fault meets a closed breaker
    List<Phase> phases =
        List.of(
            new Phase(Mode.OK, Duration.ofMillis(500)),
            new Phase(Mode.ERROR, Duration.ofMillis(1000)),
            new Phase(Mode.OK, Duration.ofMillis(2200)),
            new Phase(Mode.TIMEOUT, Duration.ofMillis(1200)),
            new Phase(Mode.OK, Duration.ofMillis(2200)),
            new Phase(Mode.THROTTLE, Duration.ofMillis(1000)),
            new Phase(Mode.OK, Duration.ofMillis(2200)),
            new Phase(Mode.RESET, Duration.ofMillis(1200)));
    try (FlappingDestination fake = new FlappingDestination();
        HttpClient client = HttpClient.newHttpClient()) {
      fake.holdFor(TIMEOUT.plusMillis(1000)).retryAfterSeconds(3);
      Path config = childConfig(db, fake.url("/crm"));
      Process child = ChildGateway.start(dir, config, port, SECRET, "flap", HEARTBEAT);
      try {
        ChildGateway.awaitReady(client, port);
        IntSupplier p = () -> port;
        try (LoadClient load =
            new LoadClient("flap", SOURCE, SECRET, List.of(p), (int) prop("rate", 100), 200)) {
          fake.schedule(phases);
          hold(length);
          load.stop();
          load.retryUnacknowledged(); // as an at-least-once sender would
          fake.always(Mode.OK);
          Report r =
              checkSqlite(
                  db,
                  DRAIN,
                  "flap",
                  "SQLite, child JVM; the destination cycles [%s] for %d s under load, then answers 200."
                      .formatted(FlappingDestination.describe(phases), length.toSeconds()),
                  load,
                  fake,
                  List.of(),
                  Map.of());
          assertThat(fake.countsByMode())
              .containsKeys("ERROR", "TIMEOUT", "THROTTLE", "RESET", "OK");
          assertThat(r.allHeld()).as(r.markdown()).isTrue();
        }
      } finally {
        child.destroyForcibly().waitFor();
      }
    }
  }

  @Test
  void diskUnderTheStoreFillsUp() throws Exception {
    Duration before = Duration.ofSeconds(prop("disk.before_s", 2));
    Duration full = Duration.ofSeconds(prop("disk.full_s", 4));
    Duration after = Duration.ofSeconds(prop("disk.after_s", 2));
    // the lease outlasts the full disk (with room for the outcome's backoff), so that no outcome is
    // given up and its delivery sent again: what is left to show is that a refused claim sends
    // nothing more
    long heartbeatMs = Math.max(HEARTBEAT_MS, 3_000);
    Duration lease = TIMEOUT.multipliedBy(2).plusMillis(3 * heartbeatMs);
    boolean outlasts = full.plusSeconds(4).compareTo(lease) < 0;
    Path disk = Files.createDirectories(dir.resolve("disk"));
    boolean mounted = mount(disk, "64m");
    assertThat(mounted)
        .as("mount -t tmpfs (needs root); without it this scenario cannot fill a real disk")
        .isTrue();
    Path db = disk.resolve("sb.db");
    Path filler = disk.resolve("filler");
    int port = ChildGateway.freePort();
    try (FlappingDestination fake = new FlappingDestination();
        HttpClient client = HttpClient.newHttpClient()) {
      Path config = childConfig(db, fake.url("/crm"));
      Process child =
          ChildGateway.start(
              dir, config, port, SECRET, "disk", "-Dswitchboard.dispatch.heartbeat=" + heartbeatMs);
      try {
        ChildGateway.awaitReady(client, port);
        IntSupplier p = () -> port;
        try (LoadClient load =
            new LoadClient("disk", SOURCE, SECRET, List.of(p), (int) prop("rate", 100), 1000)) {
          hold(before);
          long fillerBytes = fill(filler);
          int refusedBefore = load.count("503");
          int ackedWhenFull = load.acked();
          hold(full);
          int refusedWhileFull = load.count("503") - refusedBefore;
          Files.delete(filler); // space is back
          long freedAt = System.currentTimeMillis();
          int ackedBeforeRecovery = load.acked();
          await("2xx again after the space is back")
              .atMost(Duration.ofSeconds(20))
              .until(() -> load.acked() > ackedBeforeRecovery + 20);
          long recoveredMs = System.currentTimeMillis() - freedAt;
          hold(after);
          load.stop();
          load.retryUnacknowledged(); // as an at-least-once sender would
          Report r =
              checkSqlite(
                  db,
                  lease.plusSeconds(25),
                  "disk",
                  "SQLite on a 64 MB tmpfs (mount -t tmpfs) filled with a filler file for %d s under load (1 KB events), then the filler deleted."
                      .formatted(full.toSeconds()),
                  load,
                  fake,
                  List.of(),
                  Map.of(
                      "filler bytes",
                      fillerBytes,
                      "2xx'd before the disk filled",
                      ackedWhenFull,
                      "503 while full",
                      refusedWhileFull,
                      "ms from freeing space to 20 more 2xx",
                      recoveredMs));
          assertThat(refusedWhileFull).as("503 while the disk is full").isPositive();
          if (outlasts) {
            // a claim the full disk refused sends nothing; an attempt whose claim or outcome
            // it refused is recorded once the space is back, not made again
            assertThat(r.figures().get("repeats (same key sent again)"))
                .as("repeats at the destination (%s)", r.markdown())
                .isZero();
          }
          assertThat(r.allHeld()).as(r.markdown()).isTrue();
        }
      } finally {
        child.destroyForcibly().waitFor();
        umount(disk);
      }
    }
  }

  @Test
  void postgresStopsUnderAThreeNodeCluster() throws Exception {
    Duration before = Duration.ofSeconds(prop("cluster.before_s", 2));
    Duration down = Duration.ofSeconds(prop("cluster.down_s", 4));
    Duration after = Duration.ofSeconds(prop("cluster.after_s", 3));
    String externalUrl = System.getProperty("faults.pg.url");
    EmbeddedPostgres embedded = null;
    String url;
    String user;
    String password;
    Runnable stop;
    Runnable start;
    if (externalUrl != null) {
      url = externalUrl;
      user = System.getProperty("faults.pg.user", "postgres");
      password = System.getenv().getOrDefault("FAULTS_PG_PASSWORD", ""); // not on a command line
      stop = () -> shell(System.getProperty("faults.pg.stop"));
      start = () -> shell(System.getProperty("faults.pg.start"));
    } else {
      embedded = EmbeddedPostgres.start();
      embedded.createDatabase("faults");
      url = embedded.jdbcUrl("faults");
      user = EmbeddedPostgres.USER;
      password = EmbeddedPostgres.PASSWORD;
      stop = embedded::stop;
      start = embedded::startAgain;
    }
    List<GatewayFixture> nodes = new ArrayList<>();
    try (FlappingDestination fake = new FlappingDestination()) {
      for (int i = 0; i < 3; i++) {
        Path nodeDir = Files.createDirectories(dir.resolve("n" + i));
        nodes.add(
            GatewayFixture.startOnPostgres(
                nodeDir,
                url,
                user,
                password,
                routes(fake.url("/n" + i)),
                Map.of("SECRET", SECRET),
                Clock.systemUTC(),
                GatewayFixture.FAST));
      }
      List<IntSupplier> ports = new ArrayList<>();
      for (GatewayFixture n : nodes) {
        ports.add(() -> n.uri("/").getPort());
      }
      try (LoadClient load =
          new LoadClient("cluster", SOURCE, SECRET, ports, (int) prop("rate", 100), 200)) {
        hold(before);
        Instant stopped = Instant.now();
        stop.run();
        int refusedBefore = load.count("503");
        hold(down);
        start.run();
        long downMs = Duration.between(stopped, Instant.now()).toMillis();
        int ackedAtRestart = load.acked();
        await("2xx again after PostgreSQL is back")
            .atMost(Duration.ofSeconds(30))
            .until(() -> load.acked() > ackedAtRestart + 20);
        // the writers reconnect off their thread, so a request during the outage is refused at
        // once; a batch cut off mid-commit may still answer 503 just after the restart
        int refusedWhileDown = load.count("503") - refusedBefore;
        hold(after);
        load.stop();
        load.retryUnacknowledged(); // as an at-least-once sender would
        try (Connection c = InvariantChecker.connect(url, user, password)) {
          drain(c, DRAIN);
          Report r =
              report(
                  "cluster",
                  "PostgreSQL (%s) under three gateway nodes; stopped (pg_ctl -m fast) for %d ms under load, then started again."
                      .formatted(externalUrl != null ? "external" : "embedded", downMs),
                  load,
                  fake,
                  // the breaker and pauses are shared between nodes through the database with a
                  // lag: the breaker replay assumes one process, so it is not checked here; the
                  // pause check is per node (request path)
                  InvariantChecker.check(c, setup(List.of(), false), load.acks(), fake.receipts()),
                  Map.of("503 while PostgreSQL was down", refusedWhileDown));
          assertThat(refusedWhileDown).as("503 while PostgreSQL is down").isPositive();
          assertThat(r.allHeld()).as(r.markdown()).isTrue();
        }
      }
    } finally {
      nodes.forEach(GatewayFixture::close);
      if (embedded != null) {
        embedded.close();
      }
    }
  }

  static void shell(String command) {
    try {
      Process p = new ProcessBuilder("bash", "-c", command).inheritIO().start();
      if (!p.waitFor(90, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("failed: " + command);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static boolean mount(Path dir, String size) {
    try {
      Process p =
          new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
              .redirectErrorStream(true)
              .start();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static void umount(Path dir) {
    try {
      new ProcessBuilder("umount", "-l", dir.toString()).start().waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      // nothing mounted
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Writes zeros to {@code file} until the filesystem is full; returns the bytes written. */
  static long fill(Path file) throws IOException {
    byte[] chunk = new byte[64 * 1024];
    long written = 0;
    try (OutputStream out = Files.newOutputStream(file)) {
      while (true) {
        try {
          out.write(chunk);
          out.flush();
          written += chunk.length;
        } catch (IOException full) {
          break;
        }
      }
      // the last partial chunk: byte by byte is too slow; 4 KB steps
      byte[] small = new byte[4096];
      while (true) {
        try {
          out.write(small);
          out.flush();
          written += small.length;
        } catch (IOException full) {
          return written;
        }
      }
    } catch (IOException closeFailed) {
      return written; // closing a full file may fail too
    }
  }
}
