package dev.switchboard.pull.genesys;

import dev.switchboard.app.Gateway;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.demo.genesys.FakeGenesysCloud;
import dev.switchboard.pull.PullStatus;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.PulledSourceConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * {@code bench/pull.sh}: a {@code genesys-notifications} source on SQLite against the fake Genesys
 * Cloud on 127.0.0.1. Measures the events per second it stores (every one committed before the next
 * is read) when the fake streams as fast as it can, and, under a steady stream, the time from a
 * dropped socket to the next streamed event stored and to the gap's backfill being done. Writes
 * {@code bench/out/pull/report.md}.
 */
public final class PullBench {
  private PullBench() {}

  public static void main(String[] args) throws Exception {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int drops = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    String queue = "f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f";
    Path dir = Files.createTempDirectory("pull-bench");
    List<String> report = new ArrayList<>();
    try (FakeGenesysCloud genesys = FakeGenesysCloud.start("bench", "bench-secret");
        FakeDestination receiver = new FakeDestination()) {
      Path config = dir.resolve("switchboard.yaml");
      Files.writeString(
          config,
          "server: { host: 127.0.0.1, port: 0 }\nstore: { path: "
              + dir.resolve("switchboard.db")
              + " }\n"
              + PulledSourceConfig.yaml(
                  genesys.baseUrl(), "bench", "bench-secret", queue, receiver.uri("/in")));
      try (Gateway gateway =
          Gateway.start(ConfigLoader.load(config, Map.of()), Clock.systemUTC())) {
        await(() -> "connected".equals(status(gateway).state()), Duration.ofSeconds(30));

        // 1. as fast as the fake streams
        long started = System.nanoTime();
        Instant now = Instant.now();
        for (int i = 0; i < events; i++) {
          genesys.conversation(queue, now.minusSeconds(120), now, "bench");
        }
        long published = System.nanoTime();
        await(() -> status(gateway).events() >= events, Duration.ofMinutes(10));
        long stored = System.nanoTime();
        double seconds = (stored - started) / 1e9;
        report.add(
            String.format(
                "| events stored from the stream, as fast as the fake sends | %,d in %.2f s = **%,.0f"
                    + " events/s** (publishing took %.2f s) |",
                events, seconds, events / seconds, (published - started) / 1e9));

        // 2. drops under a steady stream of 50 events/s
        List<Double> resumed = new ArrayList<>();
        List<Double> reconnected = new ArrayList<>();
        List<Double> backfilled = new ArrayList<>();
        for (int d = 0; d < drops; d++) {
          Thread.sleep(3_000);
          long before = status(gateway).events();
          long drop = System.nanoTime();
          genesys.dropSockets();
          long[] firstStored = {0};
          long reconnectedAt = 0;
          // one event every 20 ms until one published after the drop is stored live
          while (firstStored[0] == 0) {
            Instant t = Instant.now();
            int sockets = genesys.conversation(queue, t.minusSeconds(30), t, "steady").sockets();
            if (sockets > 0 && reconnectedAt == 0) {
              reconnectedAt = System.nanoTime();
            }
            if (sockets > 0) {
              long mark = status(gateway).events();
              await(() -> status(gateway).events() > mark, Duration.ofSeconds(10));
              firstStored[0] = System.nanoTime();
            }
            Thread.sleep(20);
          }
          await(
              () -> {
                PullStatus s = status(gateway);
                return !s.backfilling()
                    && s.coveredUntil() != null
                    && s.coveredUntil().isAfter(Instant.now().minusSeconds(3));
              },
              Duration.ofSeconds(60));
          long backfillDone = System.nanoTime();
          reconnected.add((reconnectedAt - drop) / 1e6);
          resumed.add((firstStored[0] - drop) / 1e6);
          backfilled.add((backfillDone - drop) / 1e6);
          if (status(gateway).events() <= before) {
            throw new IllegalStateException("no event stored after drop " + d);
          }
        }
        PullStatus last = status(gateway);
        report.add(
            "| drop → new channel's socket open (ms, each drop) | " + format(reconnected) + " |");
        report.add(
            "| drop → first event streamed after it stored (ms, each drop) | "
                + format(resumed)
                + " |");
        report.add(
            "| drop → gap backfilled, coverage moving again (ms, each drop) | "
                + format(backfilled)
                + " |");
        report.add(
            String.format(
                "| totals | %,d events, %,d duplicates absorbed, %,d backfilled, %d reconnects,"
                    + " %d errors |",
                last.events(),
                last.duplicates(),
                last.backfilledEvents(),
                last.reconnects(),
                last.errors()));
      }
    }
    List<String> out = new ArrayList<>();
    out.add("# Pulled source (genesys-notifications) against the fake Genesys Cloud");
    out.add("");
    out.add(
        "`bench/pull.sh " + events + " " + drops + "`, " + Instant.now() + ", SQLite, 127.0.0.1.");
    out.add("");
    out.add("| figure | value |");
    out.add("|---|---|");
    out.addAll(report);
    Path file = Path.of("bench/out/pull/report.md");
    Files.createDirectories(file.getParent());
    Files.write(file, out);
    out.forEach(System.out::println);
  }

  static PullStatus status(Gateway gateway) {
    return gateway.pullStatus().get(0);
  }

  static String format(List<Double> values) {
    List<String> shown = new ArrayList<>();
    values.forEach(v -> shown.add(String.format("%,.0f", v)));
    return String.join(", ", shown);
  }

  static void await(BooleanSupplier condition, Duration atMost) throws InterruptedException {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + atMost);
      }
      Thread.sleep(5);
    }
  }
}
