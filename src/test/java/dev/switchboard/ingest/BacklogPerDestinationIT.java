package dev.switchboard.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backlog high-water mark is kept per destination: one destination paused (or held) for the
 * night refuses only the events that would add to its backlog, never a source whose routes go
 * elsewhere.
 */
class BacklogPerDestinationIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String YAML =
      """
      sources:
        night:
          verify: { scheme: none }
        day:
          verify: { scheme: none }
      routes:
        night-to-crm: { from: night, to: crm }
        day-to-chat: { from: day, to: chat }
      destinations:
        crm: { type: http, url: "${CRM}" }
        chat: { type: http, url: "${CHAT}" }
      """;

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-10-27T22:00:00Z"));
  final FakeDestination crm = new FakeDestination();
  final FakeDestination chat = new FakeDestination();
  GatewayFixture gw;

  @AfterEach
  void stop() {
    if (gw != null) {
      gw.close();
    }
    crm.close();
    chat.close();
  }

  GatewayFixture start() throws Exception {
    return GatewayFixture.start(
        dir,
        "  backlog_high_water: 50\n",
        YAML,
        Map.of("CRM", crm.uri("/in").toString(), "CHAT", chat.uri("/in").toString()),
        clock);
  }

  HttpResponse<String> post(String source, int n) throws Exception {
    return gw.post(
        source, GatewayFixture.utf8("{\"n\":" + n + ",\"source\":\"" + source + "\"}"), Map.of());
  }

  @Test
  void aPausedDestinationOverTheMarkRefusesOnlyTheSourcesThatRouteToIt() throws Exception {
    gw = start();
    gw.gateway().deliveries().pause("crm", "night shift");
    int accepted = 0;
    HttpResponse<String> refused = null;
    for (int i = 0; i < 60 && refused == null; i++) {
      HttpResponse<String> r = post("night", i);
      if (r.statusCode() == 202) {
        accepted++;
      } else {
        refused = r;
      }
    }
    assertThat(accepted).isEqualTo(51); // refused once the backlog is over 50
    assertThat(refused).isNotNull();
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.headers().firstValue("retry-after")).isPresent();
    assertThat(JSON.readTree(refused.body()).path("error").asText()).isEqualTo("backlog_full");

    // a source whose route goes to a healthy destination is not refused for crm's backlog
    for (int i = 0; i < 10; i++) {
      HttpResponse<String> r = post("day", i);
      assertThat(r.statusCode()).as("day event %d: %s", i, r.body()).isEqualTo(202);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> chat.requests().size() == 10);
    assertThat(crm.requests()).isEmpty();

    // the tallies are read again from the store at start: still per destination after a restart
    gw.close();
    gw = start();
    assertThat(post("night", 100).statusCode()).isEqualTo(503);
    assertThat(post("day", 100).statusCode()).isEqualTo(202);
    await().atMost(Duration.ofSeconds(10)).until(() -> chat.requests().size() == 11);
    assertThat(gw.gateway().store().countUnfinishedDeliveries()).isEqualTo(51);

    // resumed, crm drains its backlog and takes events again
    gw.gateway().deliveries().resume("crm", "morning");
    await().atMost(Duration.ofSeconds(20)).until(() -> crm.requests().size() == 51);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> gw.gateway().store().countUnfinishedDeliveries() == 0);
    assertThat(post("night", 101).statusCode()).isEqualTo(202);
  }
}
