package dev.switchboard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.SourceConfig;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.emulator.Durations;
import dev.switchboard.emulator.Emulator;
import dev.switchboard.emulator.EventGenerator;
import dev.switchboard.emulator.PayloadKind;
import dev.switchboard.emulator.RetrySchedule;
import dev.switchboard.emulator.Signer;
import dev.switchboard.emulator.Stats;
import dev.switchboard.tls.PemFileException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code switchboard emulate}: Genesys Cloud in a box — a generated, signed, at-least-once event
 * stream against one source of a configuration; for a {@code genesys-notifications} source, a fake
 * Genesys Cloud the gateway pulls from ({@link EmulateGenesys}).
 */
@Command(
    name = "emulate",
    description =
        "Send a generated Genesys event stream to a source, signed as the configuration expects,"
            + " retried like an at-least-once sender; print sent/accepted/duplicate/rejected/retried"
            + " and ack latency percentiles. For a genesys-notifications source, serve a fake"
            + " Genesys Cloud at its api_url and stream conversations for the gateway to pull.")
final class EmulateCommand implements Callable<Integer> {

  @Option(names = "--config", required = true, description = "the gateway's configuration file")
  Path config;

  @Option(names = "--source", required = true, description = "the source to send to")
  String source;

  @Option(
      names = "--url",
      description = "gateway base URL (default: from the configuration's server section)")
  URI url;

  @Option(
      names = "--payload",
      defaultValue = "disposition",
      description =
          "disposition, conversation-completed, action-map, call-dispositioned, eventbridge-acw"
              + " (default: ${DEFAULT-VALUE})")
  String payload;

  @Option(names = "--rate", defaultValue = "10/s", description = "requests per second, N/s")
  String rate;

  @Option(names = "--count", description = "stop after N requests")
  long count;

  @Option(names = "--duration", description = "stop after this long, e.g. 30s (default 10s)")
  String duration;

  @Option(names = "--duplicates", defaultValue = "0", description = "ratio of exact re-sends")
  double duplicates;

  @Option(names = "--out-of-order", defaultValue = "0", description = "ratio of late events")
  double outOfOrder;

  @Option(
      names = "--overrides",
      defaultValue = "0",
      description = "ratio of supervisor overrides (same interaction, later disposition)")
  double overrides;

  @Option(names = "--burst", defaultValue = "0", description = "extra requests sent at once")
  int burst;

  @Option(names = "--burst-every", defaultValue = "5s", description = "interval between bursts")
  String burstEvery;

  @Option(
      names = "--retry",
      defaultValue = "guides",
      description = "guides (3 × 60 s), open-messaging (5 × 5 s), none, or N@DURATION")
  String retry;

  @Option(names = "--connections", defaultValue = "8", description = "requests in flight at most")
  int connections;

  @Option(names = "--timeout", defaultValue = "10s", description = "per-request deadline")
  String timeout;

  @Option(names = "--seed", description = "random seed, for a reproducible stream")
  Long seed;

  @Option(
      names = "--drop-every",
      description =
          "a genesys-notifications source only: drop the fake's sockets this often, e.g. 30s")
  String dropEvery;

  @Option(names = "--json", description = "print the final statistics as JSON")
  boolean json;

  @Mixin TlsOptions tls;

  @Override
  public Integer call() throws Exception {
    SwitchboardConfig cfg;
    try {
      cfg = ConfigLoader.load(config);
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    SourceConfig src = cfg.sources().get(source);
    if (src == null) {
      System.err.println(
          "emulate: no source "
              + source
              + " in "
              + config
              + "; sources: "
              + cfg.sources().keySet());
      return 2;
    }
    if (src.pulled()) {
      return EmulateGenesys.run(
          src,
          parseRate(rate),
          count,
          duration != null ? Durations.parse(duration) : count > 0 ? null : Duration.ofSeconds(10),
          dropEvery == null ? null : Durations.parse(dropEvery),
          System.out,
          System.err);
    }
    SSLContext ssl;
    try {
      ssl = tls.sslContext();
    } catch (PemFileException e) {
      System.err.println("emulate: --ca-cert: " + e.getMessage());
      return 2;
    }
    URI base =
        url != null
            ? url
            : URI.create(
                (cfg.server().tls() != null ? "https://" : "http://")
                    + ("0.0.0.0".equals(cfg.server().host()) ? "127.0.0.1" : cfg.server().host())
                    + ":"
                    + cfg.server().port());
    URI target = URI.create(base.toString().replaceAll("/+$", "") + "/hooks/" + source);
    RetrySchedule schedule = RetrySchedule.parse(retry);
    Emulator.Settings settings =
        new Emulator.Settings(
            target,
            parseRate(rate),
            count,
            duration != null
                ? Durations.parse(duration)
                : count > 0 ? null : Duration.ofSeconds(10),
            burst,
            Durations.parse(burstEvery),
            connections,
            Durations.parse(timeout),
            schedule,
            schedule.delay().multipliedBy(schedule.retries()).plus(Durations.parse(timeout)),
            src.acceptedStatus(),
            src.duplicateStatus());
    EventGenerator generator =
        new EventGenerator(
            PayloadKind.parse(payload),
            new EventGenerator.Mix(duplicates, outOfOrder, overrides),
            seed != null ? seed : System.nanoTime(),
            Instant.now());
    Signer signer = Signer.forSource(src.verify());
    System.err.println(
        "emulate: "
            + payload
            + " → "
            + target
            + " ("
            + signer.describe()
            + ", retry "
            + retry
            + ")");
    Stats.Snapshot result =
        new Emulator(settings, generator, signer, ssl).run(json ? null : System.err);
    if (json) {
      System.out.println(new ObjectMapper().writeValueAsString(result.asMap()));
    } else {
      System.out.println(result.line());
    }
    return result.rejected() + result.failed() == 0 ? 0 : 1;
  }

  static double parseRate(String text) {
    String t = text.strip();
    if (t.endsWith("/s")) {
      t = t.substring(0, t.length() - 2);
    } else if (t.endsWith("/m") || t.endsWith("/min")) {
      return Double.parseDouble(t.substring(0, t.indexOf('/'))) / 60.0;
    }
    return Double.parseDouble(t);
  }
}
