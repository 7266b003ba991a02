package dev.switchboard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.SourceConfig;
import dev.switchboard.emulator.EventGenerator.Emitted;
import dev.switchboard.emulator.EventGenerator.Mix;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The emulator against a real gateway with signed sources: every request accepted or recognised as
 * a duplicate, none rejected, and the gateway stores exactly the distinct events.
 */
@Timeout(60)
class EmulatorIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Instant START = Instant.parse("2026-10-27T14:30:00Z");
  static final long SEED = 20261027;

  @TempDir Path dir;
  final FakeDestination crm = new FakeDestination();
  GatewayFixture gw;

  @BeforeEach
  void start() throws Exception {
    gw =
        GatewayFixture.start(
            dir,
            """
            sources:
              dispositions:
                verify: { scheme: hmac-sha256-hex, header: X-Signature, secrets: ["${HMAC}"] }
                idempotency: { key: interactionId & '|' & timestamp }
                partition_key: interactionId
              conversations:
                verify: { scheme: standard-webhooks, secrets: ["${WHSEC}"] }
                idempotency: { key: id }
                partition_key: conversation.id
            routes:
              to-crm:
                from: dispositions
                to: crm
            destinations:
              crm:
                type: http
                url: ${CRM}
            """,
            Map.of(
                "HMAC", "emulator-test-secret",
                "WHSEC", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "CRM", crm.uri("/in").toString()),
            new MutableClock(Instant.now()));
  }

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    crm.close();
  }

  Stats.Snapshot emulate(String source, PayloadKind kind, Mix mix, long count) throws Exception {
    SourceConfig src = gw.gateway().config().sources().get(source);
    Emulator.Settings settings =
        new Emulator.Settings(
            gw.uri("/hooks/" + source),
            150,
            count,
            null,
            20,
            Duration.ofMillis(500),
            8,
            Duration.ofSeconds(5),
            RetrySchedule.OPEN_MESSAGING,
            Duration.ofSeconds(30),
            src.acceptedStatus(),
            src.duplicateStatus());
    return new Emulator(
            settings, new EventGenerator(kind, mix, SEED, START), Signer.forSource(src.verify()))
        .run(null);
  }

  /** The distinct idempotency keys of the same stream, computed independently of the gateway. */
  static int distinct(PayloadKind kind, Mix mix, long count, Function<JsonNode, String> key)
      throws Exception {
    EventGenerator replica = new EventGenerator(kind, mix, SEED, START);
    Set<String> keys = new HashSet<>();
    int duplicates = 0;
    for (int i = 0; i < count; i++) {
      Emitted e = replica.next();
      if (!keys.add(key.apply(JSON.readTree(e.body())))) {
        duplicates++;
        assertThat(e.kind()).isEqualTo(Emitted.Kind.DUPLICATE);
      }
    }
    assertThat(duplicates).isPositive();
    return keys.size();
  }

  @Test
  void hmacSignedDispositionsWithDuplicatesOverridesAndLateEventsAreStoredOnceEach()
      throws Exception {
    Mix mix = new Mix(0.15, 0.05, 0.10);
    int expected =
        distinct(
            PayloadKind.DISPOSITION,
            mix,
            400,
            n -> n.path("interactionId").asText() + "|" + n.path("timestamp").asText());

    Stats.Snapshot s = emulate("dispositions", PayloadKind.DISPOSITION, mix, 400);

    assertThat(s.sent()).isEqualTo(400);
    assertThat(s.rejected()).isZero();
    assertThat(s.failed()).isZero();
    assertThat(s.accepted() + s.duplicate()).isEqualTo(400);
    assertThat(s.accepted()).isEqualTo(expected);
    assertThat(gw.gateway().store().countEvents()).isEqualTo(expected);
  }

  @Test
  void standardWebhooksSignedConversationsAreAcceptedOrDuplicate() throws Exception {
    Mix mix = new Mix(0.2, 0, 0);
    int expected =
        distinct(PayloadKind.CONVERSATION_COMPLETED, mix, 250, n -> n.path("id").asText());

    Stats.Snapshot s = emulate("conversations", PayloadKind.CONVERSATION_COMPLETED, mix, 250);

    assertThat(s.rejected()).isZero();
    assertThat(s.failed()).isZero();
    assertThat(s.accepted()).isEqualTo(expected);
    assertThat(s.duplicate()).isEqualTo(250 - expected);
    assertThat(gw.gateway().store().countEvents()).isEqualTo(expected);
  }

  @Test
  void aWrongSecretIsRejectedAndNeverRetried() throws Exception {
    SourceConfig src = gw.gateway().config().sources().get("dispositions");
    Signer wrong =
        Signer.forSource(
            new dev.switchboard.config.VerifyConfig(
                "hmac-sha256-hex",
                null,
                "X-Signature",
                null,
                java.util.List.of("not-the-secret"),
                src.verify().tolerance()));
    Emulator.Settings settings =
        new Emulator.Settings(
            gw.uri("/hooks/dispositions"),
            100,
            10,
            null,
            0,
            Duration.ofSeconds(1),
            4,
            Duration.ofSeconds(5),
            RetrySchedule.OPEN_MESSAGING,
            Duration.ofSeconds(10),
            202,
            200);
    Stats.Snapshot s =
        new Emulator(
                settings, new EventGenerator(PayloadKind.DISPOSITION, Mix.PLAIN, 1, START), wrong)
            .run(null);
    assertThat(s.rejected()).isEqualTo(10);
    assertThat(s.retried()).isZero();
    assertThat(gw.gateway().store().countEvents()).isZero();
  }
}
