package dev.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code type: genesys-notifications} source as the loader reads it: the topics expanded over
 * {@code queues:} and {@code users:}, the URLs from the region or given together, the defaults, and
 * each problem with the line and key at fault.
 */
class PullSectionTest {
  static final String SOURCE = "sources.genesys-queues.";
  static final Map<String, String> ENV = Map.of("GENESYS_CLIENT_SECRET", "gc-secret");

  @TempDir Path dir;

  /** A file whose line 2 is the source's name and line 3 on its keys, each line given. */
  Path config(String... sourceLines) throws Exception {
    StringBuilder yaml = new StringBuilder("sources:\n  genesys-queues:\n");
    for (String line : sourceLines) {
      yaml.append("    ").append(line).append('\n');
    }
    return Files.writeString(dir.resolve("switchboard.yaml"), yaml);
  }

  /** The keys every test but the one about them needs, on lines 3 to 6. */
  static final String[] CLIENT = {
    "type: genesys-notifications",
    "region: mypurecloud.ie",
    "client_id: gc-client",
    "client_secret: ${GENESYS_CLIENT_SECRET}",
  };

  Path config(String[] first, String... more) throws Exception {
    String[] all = new String[first.length + more.length];
    System.arraycopy(first, 0, all, 0, first.length);
    System.arraycopy(more, 0, all, first.length, more.length);
    return config(all);
  }

  static PullConfig pull(Path file) throws ConfigException {
    return ConfigLoader.load(file, ENV).sources().get("genesys-queues").pull();
  }

  @Test
  void aPulledSourceLoadsWithItsTopicsExpandedOverQueuesAndUsersAndTheDefaults() throws Exception {
    Path file =
        config(
            CLIENT,
            "queues: [q-1, q-2]",
            "users: [u-1]",
            "topics:",
            "  - v2.routing.queues.{id}.conversations",
            "  - v2.users.{id}.presence",
            "  - v2.detail.events.conversation.c-1.acw",
            "  - v2.routing.queues.q-1.conversations");

    SourceConfig source = ConfigLoader.load(file, ENV).sources().get("genesys-queues");

    assertThat(source.pulled()).isTrue();
    PullConfig pull = source.pull();
    assertThat(pull.topics())
        .containsExactly(
            "v2.routing.queues.q-1.conversations",
            "v2.routing.queues.q-2.conversations",
            "v2.users.u-1.presence",
            "v2.detail.events.conversation.c-1.acw");
    assertThat(pull.loginUrl()).isEqualTo(URI.create("https://login.mypurecloud.ie"));
    assertThat(pull.apiUrl()).isEqualTo(URI.create("https://api.mypurecloud.ie"));
    assertThat(pull.clientId()).isEqualTo("gc-client");
    assertThat(pull.clientSecret()).isEqualTo("gc-secret");
    assertThat(pull.toString()).doesNotContain("gc-secret");
    assertThat(pull.backfill())
        .isEqualTo(new PullConfig.Backfill(true, Duration.ofHours(4), Duration.ofMinutes(1)));
    assertThat(pull.rotateAfter()).isEqualTo(Duration.ofHours(20));
    assertThat(pull.quietAfter()).isEqualTo(Duration.ofSeconds(45));
    assertThat(pull.deadAfter()).isEqualTo(Duration.ofSeconds(95));
    assertThat(source.idempotency().key().text()).isEqualTo("$headers.'x-switchboard-pull-key'");
    assertThat(source.idempotency().ttl()).isEqualTo(Duration.ofHours(48));
    assertThat(source.eventTime().text()).isEqualTo("$headers.'x-switchboard-pull-time'");
  }

  @Test
  void writtenRulesReplaceTheComputedKeyAndTime() throws Exception {
    Path file =
        config(
            CLIENT,
            "users: [u-1]",
            "topics: [\"v2.users.{id}.conversations\"]",
            "idempotency: { key: \"eventBody.id\", ttl: 2h }",
            "event_time: eventBody.startTime",
            "backfill: { enabled: false, lookback: 1h, overlap: 30s, settle: 45s }",
            "channel: { rotate_after: 23h, ping_after: 20s, dead_after: 50s }");

    SourceConfig source = ConfigLoader.load(file, ENV).sources().get("genesys-queues");

    assertThat(source.idempotency().key().text()).isEqualTo("eventBody.id");
    assertThat(source.idempotency().ttl()).isEqualTo(Duration.ofHours(2));
    assertThat(source.eventTime().text()).isEqualTo("eventBody.startTime");
    assertThat(source.pull().backfill())
        .isEqualTo(
            new PullConfig.Backfill(
                false, Duration.ofHours(1), Duration.ofSeconds(30), Duration.ofSeconds(45)));
    assertThat(source.pull().rotateAfter()).isEqualTo(Duration.ofHours(23));
    assertThat(source.pull().quietAfter()).isEqualTo(Duration.ofSeconds(20));
    assertThat(source.pull().deadAfter()).isEqualTo(Duration.ofSeconds(50));
  }

  @Test
  void anIdPlaceholderWithoutItsListIsAProblemNamingTheList() throws Exception {
    Path file = config(CLIENT, "topics:", "  - v2.routing.queues.{id}.conversations");

    ConfigException e = ConfigLoaderTest.loadFailing(file, ENV);

    assertThat(e.problems())
        .containsExactly(
            new ConfigProblem(
                file.toString(),
                8,
                SOURCE + "topics[0]",
                "\"v2.routing.queues.{id}.conversations\" needs the ids to fill in: list them"
                    + " under queues"));
  }

  @Test
  void badTopicsAreEachAProblemAtTheirLine() throws Exception {
    Path file =
        config(
            CLIENT,
            "queues: [q-1, \"not an id\"]",
            "topics:",
            "  - routing.queues.q-1.conversations",
            "  - v2.detail.events.conversation.{id}.acw",
            "  - v2.routing.queues.{id}.conversations");

    ConfigException e = ConfigLoaderTest.loadFailing(file, ENV);

    assertThat(e.problems())
        .extracting(ConfigProblem::line, ConfigProblem::path)
        .containsExactlyInAnyOrder(
            tuple(7, SOURCE + "queues[1]"),
            tuple(9, SOURCE + "topics[0]"),
            tuple(10, SOURCE + "topics[1]"));
    assertThat(e.getMessage())
        .contains("\"not an id\" is not a Genesys id (letters, digits and -)")
        .contains(
            "\"routing.queues.q-1.conversations\" is not a topic (e.g."
                + " v2.routing.queues.{id}.conversations)")
        .contains(
            "{id} is filled in only in v2.routing.queues.{id}.… (from queues:) and"
                + " v2.users.{id}.… (from users:)");
  }

  @Test
  void moreThanTwentyThousandTopicsIsOneProblem() throws Exception {
    String queues =
        IntStream.range(0, 10_001)
            .mapToObj(i -> "q-" + i)
            .collect(Collectors.joining(", ", "[", "]"));
    Path file =
        config(
            CLIENT,
            "queues: " + queues,
            "topics:",
            "  - v2.routing.queues.{id}.conversations",
            "  - v2.routing.queues.{id}.observations");

    ConfigException e = ConfigLoaderTest.loadFailing(file, ENV);

    assertThat(e.problems())
        .containsExactly(
            new ConfigProblem(
                file.toString(),
                8,
                SOURCE + "topics",
                "20002 topics: at most 19000 (19 channels of 1,000 topics: Genesys allows one"
                    + " client 20 channels, and one stays free to replace a channel before closing"
                    + " it)"));
  }

  @Test
  void aPulledSourceHasNoEndpointSoNoVerifyOrAllowIps() throws Exception {
    Path file =
        config(
            CLIENT,
            "topics: [v2.users.u-1.presence]",
            "verify: { scheme: none }",
            "allow_ips: [10.0.0.0/8]");

    ConfigException e = ConfigLoaderTest.loadFailing(file, ENV);

    assertThat(e.problems())
        .extracting(ConfigProblem::line, ConfigProblem::path)
        .containsExactly(tuple(8, SOURCE + "verify"), tuple(9, SOURCE + "allow_ips"));
    assertThat(e.problems().get(0).message()).startsWith("unknown key \"verify\"");
    assertThat(e.problems().get(1).message()).startsWith("unknown key \"allow_ips\"");
  }

  @Test
  void loginUrlWithoutApiUrlIsAProblem() throws Exception {
    Path file =
        config(
            "type: genesys-notifications",
            "login_url: https://login.mypurecloud.com",
            "client_id: gc-client",
            "client_secret: s",
            "topics: [v2.users.u-1.presence]");

    ConfigException e = ConfigLoaderTest.loadFailing(file, ENV);

    assertThat(e.problems())
        .extracting(ConfigProblem::path, ConfigProblem::message)
        .containsExactly(tuple(SOURCE + "api_url", "give login_url and api_url together"));
  }

  @Test
  void urlsGivenTogetherLoseTheirTrailingSlash() throws Exception {
    Path file =
        config(
            "type: genesys-notifications",
            "login_url: http://127.0.0.1:9000/",
            "api_url: http://127.0.0.1:9001/",
            "client_id: gc-client",
            "client_secret: s",
            "topics: [v2.users.u-1.presence]");

    PullConfig pull = pull(file);

    assertThat(pull.loginUrl()).isEqualTo(URI.create("http://127.0.0.1:9000"));
    assertThat(pull.apiUrl()).isEqualTo(URI.create("http://127.0.0.1:9001"));
  }

  @Test
  void aRegionIsRequiredWithoutUrlsAndIsADomain() throws Exception {
    Path none =
        config(
            "type: genesys-notifications",
            "client_id: gc-client",
            "client_secret: s",
            "topics: [v2.users.u-1.presence]");
    assertThat(ConfigLoaderTest.loadFailing(none, ENV).problems())
        .extracting(ConfigProblem::line, ConfigProblem::path, ConfigProblem::message)
        .containsExactly(
            tuple(
                2,
                SOURCE + "region",
                "region is required (e.g. mypurecloud.com), or both login_url and api_url"));

    Path url =
        config(
            "type: genesys-notifications",
            "region: https://api.mypurecloud.com",
            "client_id: gc-client",
            "client_secret: s",
            "topics: [v2.users.u-1.presence]");
    assertThat(ConfigLoaderTest.loadFailing(url, ENV).problems())
        .extracting(ConfigProblem::line, ConfigProblem::path, ConfigProblem::message)
        .containsExactly(
            tuple(4, SOURCE + "region", "region is the domain of your org, e.g. mypurecloud.ie"));
  }

  @Test
  void deadAfterMustBeLongerThanPingAfterAndRotationAtMostTwentyThreeHours() throws Exception {
    Path file =
        config(
            CLIENT,
            "topics: [v2.users.u-1.presence]",
            "channel:",
            "  ping_after: 60s",
            "  dead_after: 60s",
            "  rotate_after: 24h");

    ConfigException e = ConfigLoaderTest.loadFailing(file, ENV);

    assertThat(e.problems())
        .extracting(ConfigProblem::line, ConfigProblem::path, ConfigProblem::message)
        .containsExactly(
            tuple(10, SOURCE + "channel.dead_after", "dead_after must be longer than ping_after"),
            tuple(
                11,
                SOURCE + "channel.rotate_after",
                "rotate_after must be at most 23h: Genesys closes a channel after 24h"));
  }

  @Test
  void anUnsetSecretVariableIsOneProblemNamingTheVariable() throws Exception {
    Path file = config(CLIENT, "topics: [v2.users.u-1.presence]");

    ConfigException e = ConfigLoaderTest.loadFailing(file, Map.of());

    assertThat(e.problems())
        .containsExactly(
            new ConfigProblem(
                file.toString(),
                6,
                SOURCE + "client_secret",
                "environment variable GENESYS_CLIENT_SECRET is not set"));
  }

  @Test
  void theClientIsRequired() throws Exception {
    Path file =
        config(
            "type: genesys-notifications",
            "region: mypurecloud.com",
            "topics: [v2.users.u-1.presence]");

    ConfigException e = ConfigLoaderTest.loadFailing(file, ENV);

    assertThat(e.problems())
        .extracting(ConfigProblem::path, ConfigProblem::message)
        .containsExactly(
            tuple(SOURCE + "client_id", "client_id is required"),
            tuple(SOURCE + "client_secret", "client_secret is required"));
  }
}
