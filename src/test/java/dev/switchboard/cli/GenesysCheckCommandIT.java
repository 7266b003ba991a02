package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.cli.BackupCommandIT.Run;
import dev.switchboard.demo.genesys.FakeGenesysCloud;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code switchboard genesys check} against a fake Genesys Cloud on 127.0.0.1: one line per check,
 * what is wrong said in an admin's words, exit 0 only when every check passed, never the secret.
 */
@Timeout(60)
class GenesysCheckCommandIT {
  static final String CLIENT = "switchboard-check";
  static final String SECRET = "check-secret-0123456789";
  static final String QUEUE = "f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f";

  @TempDir Path dir;
  FakeGenesysCloud genesys;

  @BeforeEach
  void fake() {
    genesys = FakeGenesysCloud.start(CLIENT, SECRET);
  }

  @AfterEach
  void stop() {
    genesys.close();
  }

  Path config(String secret, String apiUrl, String topicsAndQueues) throws Exception {
    return Files.writeString(
        dir.resolve("switchboard.yaml"),
        """
        sources:
          genesys-queues:
            type: genesys-notifications
            login_url: %s
            api_url: %s
            client_id: %s
            client_secret: %s
        %s
          dispositions:
            verify: { scheme: none }
        """
            .formatted(genesys.baseUrl(), apiUrl, CLIENT, secret, topicsAndQueues));
  }

  Path config(String secret) throws Exception {
    return config(
        secret,
        genesys.baseUrl().toString(),
        "    queues: [\"" + QUEUE + "\"]\n    topics: [\"v2.routing.queues.{id}.conversations\"]");
  }

  static Run check(Path file) {
    return BackupCommandIT.run(
        "genesys", "check", "--config", file.toString(), "--source", "genesys-queues");
  }

  @Test
  void everyCheckPassesAgainstAHealthyOrganisationWithAChannelPerThousandTopics() throws Exception {
    String queues =
        IntStream.range(0, 1_500)
            .mapToObj(i -> "\"q-" + i + "\"")
            .collect(Collectors.joining(", ", "[", "]"));
    Path file =
        config(
            SECRET,
            genesys.baseUrl().toString(),
            "    queues: " + queues + "\n    topics: [\"v2.routing.queues.{id}.conversations\"]");

    Run run = check(file);

    assertThat(run.exit()).as(run.out() + run.err()).isZero();
    assertThat(run.out())
        .contains("genesys-queues: checking 127.0.0.1:")
        .contains("(1500 topics, 2 channels)")
        .containsPattern("OK +token from 127\\.0\\.0\\.1:\\d+: the OAuth client got a token")
        .contains("OK      channel 1 of 2 (1000 topics): created and subscribed")
        .contains("OK      channel 2 of 2 (500 topics): created and subscribed")
        .contains(
            "OK      analytics conversation-details query (last 5 minutes): allowed (0 conversations found)")
        .contains("genesys-queues: every check passed");
    assertThat(genesys.channelsCreated()).isEqualTo(2);
    assertThat(genesys.analyticsQueries()).isEqualTo(1);
    assertThat(run.out() + run.err()).doesNotContain(SECRET);
  }

  @Test
  void aWrongSecretIsTheOAuthClientRefusedAndTheRestIsNotTried() throws Exception {
    Run run = check(config("not-the-secret"));

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out())
        .containsPattern(
            "FAILED +token from 127\\.0\\.0\\.1:\\d+: the OAuth client was refused \\(HTTP 401\\):"
                + " check client_id and client_secret \\(and the region: a client exists in one"
                + " region only\\)")
        .contains("SKIPPED channel 1 of 1 (1 topic): no token")
        .contains("SKIPPED analytics conversation-details query (last 5 minutes): no token")
        .contains("genesys-queues: 1 check(s) failed");
    assertThat(genesys.channelsCreated()).isZero();
    assertThat(run.out() + run.err()).doesNotContain("not-the-secret");
  }

  @Test
  void aClientWithoutTheAnalyticsPermissionIsToldWhichPermissionItLacks() throws Exception {
    genesys.deny("analytics");

    Run run = check(config(SECRET));

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out())
        .contains("OK      channel 1 of 1 (1 topic)")
        .contains(
            "FAILED  analytics conversation-details query (last 5 minutes): the OAuth client"
                + " lacks the permission Analytics > Conversation Detail > View"
                + " (analytics:conversationDetail:view)")
        .contains("genesys-queues: 1 check(s) failed");
  }

  @Test
  void aClientThatMayNotCreateChannelsIsToldSo() throws Exception {
    genesys.deny("notifications");

    Run run = check(config(SECRET));

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out())
        .contains(
            "FAILED  channel 1 of 1 (1 topic): cannot create a channel: the OAuth client may not"
                + " create notification channels (HTTP 403)")
        .contains("OK      analytics conversation-details query");
  }

  @Test
  void aTopicGenesysDoesNotKnowIsNamed() throws Exception {
    Path file =
        config(
            SECRET,
            genesys.baseUrl().toString(),
            "    queues: [\""
                + QUEUE
                + "\"]\n    topics:\n"
                + "      - v2.routing.queues.{id}.conversations\n"
                + "      - v2.routing.queues.{id}.conversationz");

    Run run = check(file);

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out())
        .contains(
            "FAILED  channel 1 of 1 (2 topics): cannot subscribe: Genesys does not accept the"
                + " topic v2.routing.queues."
                + QUEUE
                + ".conversationz (unknown, misspelt, or not allowed for this client)");
  }

  @Test
  void anApiUrlWithoutThePlatformApiIsAWrongRegionOrApiUrl() throws Exception {
    Path file =
        config(
            SECRET,
            genesys.baseUrl() + "/elsewhere",
            "    queues: [\""
                + QUEUE
                + "\"]\n    topics: [\"v2.routing.queues.{id}.conversations\"]");

    Run run = check(file);

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out())
        .containsPattern("OK +token from")
        .containsPattern(
            "FAILED +channel 1 of 1 \\(1 topic\\): cannot create a channel: not found at"
                + " 127\\.0\\.0\\.1:\\d+ \\(HTTP 404\\): wrong region or api_url")
        .containsPattern(
            "FAILED +analytics conversation-details query \\(last 5 minutes\\): not found at"
                + " 127\\.0\\.0\\.1:\\d+ \\(HTTP 404\\): wrong region or api_url");
  }

  @Test
  void aWebhookSourceOrAnUnknownOneIsRefusedWithoutCallingGenesys() throws Exception {
    Path file = config(SECRET);

    Run webhook =
        BackupCommandIT.run(
            "genesys", "check", "--config", file.toString(), "--source", "dispositions");
    Run unknown =
        BackupCommandIT.run("genesys", "check", "--config", file.toString(), "--source", "nope");

    assertThat(webhook.exit()).isEqualTo(1);
    assertThat(webhook.err()).contains("source dispositions is a webhook source");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err()).contains("no source nope (sources: genesys-queues, dispositions)");
    assertThat(genesys.tokensIssued()).isZero();
  }

  @Test
  void configurationProblemsArePrintedAsValidatePrintsThem() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("broken.yaml"),
            """
            sources:
              genesys-queues:
                type: genesys-notifications
                region: mypurecloud.com
                client_id: someone
                topics: [\"v2.routing.queues.{id}.conversations\"]
            """);

    Run run = check(file);

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err())
        .contains(file + ":2: sources.genesys-queues.client_secret:")
        .contains(file + ":6: sources.genesys-queues.topics[0]:")
        .contains("needs the ids to fill in: list them under queues")
        .contains(file + ": 2 problem(s)");
    assertThat(genesys.tokensIssued()).isZero();
  }
}
