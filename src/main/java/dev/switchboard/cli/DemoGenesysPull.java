package dev.switchboard.cli;

import dev.switchboard.app.Gateway;
import dev.switchboard.demo.genesys.FakeGenesysCloud;
import dev.switchboard.pull.PullStatus;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code switchboard demo --genesys-pull}: a fake Genesys Cloud in-process that the demo's pulled
 * source {@code genesys-queues} connects to (demo/demo-genesys-pull.yaml). A conversation on its
 * queue is published every second, and every 30 seconds its sockets are dropped without a close
 * frame, so the dashboard's Sources page shows the source reconnecting and backfilling the gap.
 */
final class DemoGenesysPull implements AutoCloseable {
  static final String SOURCE = "genesys-queues";
  static final String QUEUE = "f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f";
  static final String CLIENT_ID = "demo-genesys-client";
  static final Duration CONVERSATION_EVERY = Duration.ofSeconds(1);
  static final Duration DROP_EVERY = Duration.ofSeconds(30);

  private final FakeGenesysCloud genesys;
  private final ScheduledExecutorService traffic =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("demo-genesys-traffic").daemon(true).factory());

  DemoGenesysPull(String clientSecret) {
    this.genesys = FakeGenesysCloud.start(CLIENT_ID, clientSecret);
  }

  /** The fake's login and API URL: {@code ${DEMO_GENESYS_URL}} in demo-genesys-pull.yaml. */
  String url() {
    return genesys.baseUrl().toString();
  }

  /**
   * Publishing and dropping, from now on. A failure in either is the demo's own (the fake is
   * in-process): it is printed, never allowed to end the schedule silently.
   */
  void startTraffic() {
    traffic.scheduleAtFixedRate(
        () -> {
          try {
            Instant now = Instant.now();
            genesys.conversation(QUEUE, now.minus(Duration.ofMinutes(2)), now, "resolved");
          } catch (RuntimeException e) {
            System.err.println("demo: the fake Genesys Cloud could not publish: " + e);
          }
        },
        CONVERSATION_EVERY.toMillis(),
        CONVERSATION_EVERY.toMillis(),
        TimeUnit.MILLISECONDS);
    traffic.scheduleAtFixedRate(
        () -> {
          try {
            genesys.dropSockets();
          } catch (RuntimeException e) {
            System.err.println("demo: the fake Genesys Cloud could not drop its sockets: " + e);
          }
        },
        DROP_EVERY.toMillis(),
        DROP_EVERY.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * No more conversations or drops (before the gateway stops, so none is lost to a closing one).
   */
  void stopTraffic() {
    traffic.shutdownNow();
  }

  /** {@code | genesys-queues 12 pulled, 3 duplicates, 1 reconnects, 2 backfilled}, or empty. */
  static String summary(Gateway gateway) {
    for (PullStatus status : gateway.pullStatus()) {
      if (status.source().equals(SOURCE)) {
        return String.format(
            " | %s %d pulled, %d duplicates, %d reconnects, %d backfilled",
            SOURCE,
            status.events(),
            status.duplicates(),
            status.reconnects(),
            status.backfilledEvents());
      }
    }
    return "";
  }

  /**
   * demo.yaml with demo-genesys-pull.yaml's sections added: each top-level section of the addition
   * goes at the top of the base's section of the same name (or at the end when the base has none),
   * so the written file reads as one configuration.
   */
  static String withPulledSource(String base) throws IOException {
    String addition;
    try (InputStream in =
        DemoGenesysPull.class.getResourceAsStream("/demo/demo-genesys-pull.yaml")) {
      addition = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    return merge(base, addition);
  }

  static String merge(String base, String addition) {
    List<String> lines = new ArrayList<>(base.lines().toList());
    for (Map.Entry<String, List<String>> section : sections(addition).entrySet()) {
      int at = lines.indexOf(section.getKey() + ":");
      if (at < 0) {
        lines.add(section.getKey() + ":");
        lines.addAll(section.getValue());
      } else {
        List<String> body = new ArrayList<>(section.getValue());
        body.add("");
        lines.addAll(at + 1, body);
      }
    }
    return String.join("\n", lines) + "\n";
  }

  /** Top-level {@code name:} lines and the indented lines under each, trailing blanks dropped. */
  private static Map<String, List<String>> sections(String yaml) {
    Map<String, List<String>> sections = new LinkedHashMap<>();
    List<String> current = null;
    for (String line : yaml.lines().toList()) {
      if (!line.isEmpty() && !Character.isWhitespace(line.charAt(0)) && !line.startsWith("#")) {
        current = new ArrayList<>();
        sections.put(line.substring(0, line.indexOf(':')), current);
      } else if (current != null) {
        current.add(line);
      }
    }
    sections.values().forEach(DemoGenesysPull::dropTrailingBlanks);
    return sections;
  }

  private static void dropTrailingBlanks(List<String> lines) {
    while (!lines.isEmpty() && lines.getLast().isBlank()) {
      lines.removeLast();
    }
  }

  @Override
  public void close() {
    traffic.shutdownNow();
    genesys.close();
  }
}
