package dev.switchboard.cli;

import dev.switchboard.config.PullConfig;
import dev.switchboard.config.SourceConfig;
import dev.switchboard.demo.genesys.FakeGenesysCloud;
import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code switchboard emulate} on a {@code genesys-notifications} source: instead of posting to the
 * gateway, serves a fake Genesys Cloud (OAuth, channels, the Notification API's WebSocket, the
 * Analytics query) where the source's {@code login_url} and {@code api_url} point, with the
 * source's client, and streams a voice conversation on one of its queues at the given rate, the
 * sockets dropped every {@code --drop-every} if asked, so that a gateway running the same file
 * shows its pulled source working, reconnecting and backfilling (docs/sources.md).
 */
final class EmulateGenesys {
  private static final Pattern QUEUE_TOPIC =
      Pattern.compile("v2\\.routing\\.queues\\.([A-Za-z0-9-]+)\\.conversations");
  private static final List<String> CODES = List.of("resolved", "sale", "callback", "escalated");

  private EmulateGenesys() {}

  /** Runs until {@code duration} or {@code count} conversations; 0, or 2 for a misfit source. */
  static int run(
      SourceConfig source,
      double perSecond,
      long count,
      Duration duration,
      Duration dropEvery,
      PrintStream out,
      PrintStream err)
      throws InterruptedException {
    PullConfig pull = source.pull();
    URI api = pull.apiUrl();
    boolean local =
        "http".equals(api.getScheme())
            && List.of("127.0.0.1", "localhost").contains(api.getHost())
            && api.getPort() > 0
            && pull.loginUrl().equals(api);
    if (!local) {
      err.println(
          "emulate: source "
              + source.name()
              + " pulls from "
              + api.getHost()
              + "; to emulate Genesys Cloud here, give it login_url and api_url both"
              + " http://127.0.0.1:<port> (the fake listens there)");
      return 2;
    }
    List<String> queues = new ArrayList<>();
    for (String topic : pull.topics()) {
      Matcher m = QUEUE_TOPIC.matcher(topic);
      if (m.matches()) {
        queues.add(m.group(1));
      }
    }
    if (queues.isEmpty()) {
      err.println(
          "emulate: source "
              + source.name()
              + " has no v2.routing.queues.{id}.conversations topic for the fake to stream on");
      return 2;
    }
    try (FakeGenesysCloud genesys =
        FakeGenesysCloud.start(api.getPort(), pull.clientId(), pull.clientSecret())) {
      out.println(
          "emulate: a fake Genesys Cloud at "
              + api
              + " for source "
              + source.name()
              + ": "
              + perSecond
              + " conversation(s)/s on "
              + queues.size()
              + " queue(s)"
              + (dropEvery == null
                  ? ""
                  : ", sockets dropped every " + dropEvery.toSeconds() + " s"));
      long start = System.nanoTime();
      long end = duration == null ? Long.MAX_VALUE : start + duration.toNanos();
      long interval = (long) (1e9 / Math.max(perSecond, 0.001));
      long next = start;
      long nextDrop = dropEvery == null ? Long.MAX_VALUE : start + dropEvery.toNanos();
      long nextLine = start + 1_000_000_000L;
      long published = 0;
      long heard = 0;
      long drops = 0;
      while (System.nanoTime() < end && (count <= 0 || published < count)) {
        long now = System.nanoTime();
        if (now >= nextDrop) {
          genesys.dropSockets();
          drops++;
          nextDrop += dropEvery.toNanos();
        }
        if (now >= next) {
          Instant t = Instant.now();
          String queue = queues.get((int) (published % queues.size()));
          String code = CODES.get((int) (published % CODES.size()));
          if (genesys.conversation(queue, t.minusSeconds(90), t, code).sockets() > 0) {
            heard++;
          }
          published++;
          next += interval;
        }
        if (now >= nextLine) {
          out.println(line(published, heard, drops, genesys));
          nextLine += 1_000_000_000L;
        }
        Thread.sleep(Math.max(1, Math.min((next - System.nanoTime()) / 1_000_000, 50)));
      }
      out.println(line(published, heard, drops, genesys));
      out.println(
          "emulate: done. Conversations published while no socket listened are for the"
              + " gateway's backfill to find.");
    }
    return 0;
  }

  private static String line(long published, long heard, long drops, FakeGenesysCloud g) {
    return String.format(
        "published %d (%d to a socket, %d while none listened) | sockets %d | channels %d |"
            + " drops %d | analytics queries %d",
        published,
        heard,
        published - heard,
        g.connectedSockets(),
        g.channelsCreated(),
        drops,
        g.analyticsQueries());
  }
}
