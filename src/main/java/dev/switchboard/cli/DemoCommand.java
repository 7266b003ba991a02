package dev.switchboard.cli;

import dev.switchboard.app.Gateway;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.OperationalSource;
import dev.switchboard.config.SourceConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.demo.DemoSalesforce;
import dev.switchboard.demo.DemoSlack;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.emulator.Durations;
import dev.switchboard.emulator.Emulator;
import dev.switchboard.emulator.EventGenerator;
import dev.switchboard.emulator.PayloadKind;
import dev.switchboard.emulator.RetrySchedule;
import dev.switchboard.emulator.Signer;
import dev.switchboard.store.DeliveryFilter;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code switchboard demo}: the gateway on a fresh store with the bundled demo configuration, fake
 * Salesforce and Slack destinations in-process, and the emulator sending a steady Genesys stream
 * with duplicates, overrides and late events; until Ctrl-C or {@code --duration}.
 */
@Command(
    name = "demo",
    description =
        "Run a self-contained demo: gateway, fake Salesforce and Slack, and an event stream."
            + " Prints the dashboard URL and token; Ctrl-C stops it.")
final class DemoCommand implements Callable<Integer> {
  private static final String SOURCE = "genesys-dispositions";

  @Option(
      names = "--port",
      description = "the gateway's port (default 8080, or the next free one; 0 = any free port)")
  Integer port;

  @Option(
      names = "--host",
      defaultValue = "127.0.0.1",
      description =
          "the address the gateway listens on (default 127.0.0.1; 0.0.0.0 in a container, whose"
              + " port is published)")
  String host;

  @Option(names = "--duration", description = "stop after this long, e.g. 30s (default: Ctrl-C)")
  String duration;

  @Option(names = "--rate", defaultValue = "20", description = "events per second (default 20)")
  double rate;

  @Option(names = "--data-dir", description = "where the store goes (default: a temp folder)")
  Path dataDir;

  @Option(
      names = "--genesys-pull",
      description =
          "also pull from a fake Genesys Cloud (source genesys-queues): a conversation a second,"
              + " its sockets dropped every 30 s to show reconnects and backfill")
  boolean genesysPull;

  private volatile boolean interrupted;
  private final CountDownLatch stopped = new CountDownLatch(1);

  @Override
  public Integer call() throws Exception {
    if (System.getProperty("SWITCHBOARD_LOG_LEVEL") == null
        && System.getenv("SWITCHBOARD_LOG_LEVEL") == null) {
      System.setProperty("SWITCHBOARD_LOG_LEVEL", "WARN"); // keep the summary line readable
    }
    PrintStream out = System.out;
    Path data = prepareDataDir();
    HexFormat hex = HexFormat.of();
    SecureRandom random = new SecureRandom();
    String token = hex.formatHex(bytes(random, 16));
    String secret = hex.formatHex(bytes(random, 24));
    String sfSecret = hex.formatHex(bytes(random, 16));

    DemoSalesforce salesforce = new DemoSalesforce("demo-client-id", sfSecret);
    DemoSlack slack = new DemoSlack();
    String genesysSecret = hex.formatHex(bytes(random, 16));
    DemoGenesysPull genesys = genesysPull ? new DemoGenesysPull(genesysSecret) : null;
    Gateway gateway = null;
    try {
      Path config = data.resolve("demo.yaml");
      String yaml;
      try (InputStream in = DemoCommand.class.getResourceAsStream("/demo/demo.yaml")) {
        yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      Files.writeString(config, genesys == null ? yaml : DemoGenesysPull.withPulledSource(yaml));
      Map<String, String> env = new HashMap<>();
      env.put("DEMO_HOST", host);
      env.put("DEMO_PORT", Integer.toString(choosePort()));
      env.put("DEMO_DATA", data.toString());
      env.put("DEMO_ADMIN_TOKEN", token);
      env.put("DEMO_WEBHOOK_SECRET", secret);
      env.put("DEMO_SALESFORCE_URL", salesforce.url());
      env.put("DEMO_SALESFORCE_SECRET", sfSecret);
      env.put("DEMO_SLACK_URL", slack.url());
      if (genesys != null) {
        env.put("DEMO_GENESYS_URL", genesys.url());
        env.put("DEMO_GENESYS_SECRET", genesysSecret);
      }
      SwitchboardConfig loaded;
      try {
        loaded = ConfigLoader.load(config, env);
      } catch (ConfigException e) {
        System.err.println("demo: the bundled configuration does not load: " + e.getMessage());
        return 1;
      }
      try {
        gateway = Gateway.start(loaded, Clock.systemUTC());
      } catch (dev.switchboard.store.sql.StoreInUseException e) {
        // --data-dir names a store another gateway runs on (docs/store.md)
        System.err.println("demo: cannot start: " + e.getMessage());
        return 1;
      }
      String base = "http://127.0.0.1:" + gateway.port();
      out.println("Switchboard demo");
      out.println("  dashboard:  " + base + "/ui");
      out.println("  token:      " + token);
      out.println("  webhook:    " + base + "/hooks/" + SOURCE + " (hmac-sha256-hex)");
      out.println("  config:     " + config);
      out.println("  fakes:      Salesforce " + salesforce.url() + ", Slack on 127.0.0.1");
      if (genesys != null) {
        out.println(
            "  genesys:    a fake Genesys Cloud at "
                + genesys.url()
                + "; source "
                + DemoGenesysPull.SOURCE
                + " pulls a conversation a second, its sockets dropped every 30 s"
                + " (reconnects and backfill: the dashboard's Sources page)");
        genesys.startTraffic();
      }
      out.println("Sending " + rate + " Genesys dispositions/s. Ctrl-C stops.");
      out.flush();
      run(loaded, gateway, salesforce, slack, URI.create(base + "/hooks/" + SOURCE), out);
      return 0;
    } finally {
      if (genesys != null) {
        genesys.stopTraffic(); // nothing published or dropped while the gateway closes
      }
      if (gateway != null) {
        gateway.close();
      }
      if (genesys != null) {
        genesys.close();
      }
      slack.close();
      salesforce.close();
      stopped.countDown(); // lets a Ctrl-C shutdown hook finish
    }
  }

  /** Runs the emulator until its duration or Ctrl-C, printing the summary line every second. */
  private void run(
      SwitchboardConfig config,
      Gateway gateway,
      DemoSalesforce salesforce,
      DemoSlack slack,
      URI target,
      PrintStream out)
      throws InterruptedException {
    SourceConfig source = config.sources().get(SOURCE);
    Emulator.Settings settings =
        new Emulator.Settings(
            target,
            rate,
            0,
            duration == null ? Duration.ofDays(3650) : Durations.parse(duration),
            0,
            Duration.ofSeconds(5),
            8,
            Duration.ofSeconds(10),
            new RetrySchedule(3, Duration.ofSeconds(2)),
            Duration.ofSeconds(5),
            source.acceptedStatus(),
            source.duplicateStatus());
    EventGenerator generator =
        new EventGenerator(
            PayloadKind.parse("disposition"),
            new EventGenerator.Mix(0.1, 0.05, 0.1),
            System.nanoTime(),
            Instant.now());
    Emulator emulator = new Emulator(settings, generator, Signer.forSource(source.verify()));

    Thread runner = Thread.currentThread();
    Thread hook =
        new Thread(
            () -> {
              interrupted = true;
              runner.interrupt();
              try {
                stopped.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    ScheduledExecutorService ticker =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("demo-summary").daemon(true).factory());
    ticker.scheduleAtFixedRate(
        () -> {
          out.print("\r" + summary(gateway, salesforce, slack) + "   ");
          out.flush();
        },
        1,
        1,
        TimeUnit.SECONDS);
    try {
      emulator.run(null);
    } catch (InterruptedException e) {
      // Ctrl-C: fall through to the clean stop
    } finally {
      ticker.shutdownNow();
      ticker.awaitTermination(2, TimeUnit.SECONDS);
      Thread.interrupted(); // clear it: the gateway's graceful close waits
      out.println("\r" + summary(gateway, salesforce, slack) + "   ");
      out.println("demo: stopping (emulator, gateway, fakes)");
      out.flush();
      // the caller closes the gateway, then the fakes; the hook waits for that only on Ctrl-C
      if (!interrupted) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // already shutting down
        }
      }
    }
  }

  /**
   * One line: the gateway's own counts (ingest metrics, the delivery store) and the fakes', then
   * the pulled source's with {@code --genesys-pull}.
   */
  private String summary(Gateway gateway, DemoSalesforce salesforce, DemoSlack slack) {
    Map<String, Long> ingest = gateway.metrics().ingestCounts().getOrDefault(SOURCE, Map.of());
    String pulled = genesysPull ? DemoGenesysPull.summary(gateway) : "";
    return String.format(
            "events %d accepted, %d duplicates | deliveries %d delivered, %d retrying, %d dead"
                + " letters | salesforce %d records, slack %d messages",
            ingest.getOrDefault("accepted", 0L),
            ingest.getOrDefault("duplicate", 0L),
            count(gateway, DeliveryState.DELIVERED),
            count(gateway, DeliveryState.RETRY_SCHEDULED),
            count(gateway, DeliveryState.DEAD),
            salesforce.recordCount(),
            slack.posted())
        + pulled
        + " | operational events "
        + gateway
            .metrics()
            .ingestCounts()
            .getOrDefault(OperationalSource.NAME, Map.of())
            .getOrDefault("accepted", 0L);
  }

  private static long count(Gateway gateway, DeliveryState state) {
    try {
      return gateway
          .deliveries()
          .count(new DeliveryFilter(List.of(), null, null, Set.of(state), null, null, null));
    } catch (RuntimeException e) {
      return -1; // the store is closing
    }
  }

  private Path prepareDataDir() throws IOException {
    if (dataDir == null) {
      return Files.createTempDirectory("switchboard-demo");
    }
    if (Files.exists(dataDir)) {
      try (var walk = Files.walk(dataDir)) {
        for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    return Files.createDirectories(dataDir);
  }

  private int choosePort() {
    if (port != null) {
      return port;
    }
    for (int p = 8080; p < 8100; p++) {
      try (ServerSocket probe = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
        return p;
      } catch (IOException taken) {
        // try the next one
      }
    }
    return 0;
  }

  private static byte[] bytes(SecureRandom random, int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }
}
