package dev.switchboard.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.emulator.EventGenerator.Emitted;
import dev.switchboard.emulator.EventGenerator.Mix;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class EventGeneratorTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Instant START = Instant.parse("2026-10-27T14:30:00Z");

  static List<Emitted> generate(PayloadKind kind, Mix mix, int n) {
    EventGenerator g = new EventGenerator(kind, mix, 42, START);
    List<Emitted> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(g.next());
    }
    return out;
  }

  @ParameterizedTest
  @EnumSource(PayloadKind.class)
  void everyShapeIsJsonWithVaryingIdsAndCodes(PayloadKind kind) throws Exception {
    List<Emitted> all = generate(kind, Mix.PLAIN, 200);
    Set<String> bodies = new HashSet<>();
    Set<String> interactions = new HashSet<>();
    for (Emitted e : all) {
      JsonNode n = JSON.readTree(e.body());
      assertThat(n.isObject()).isTrue();
      bodies.add(n.toString());
      interactions.add(e.interactionId());
      assertThat(e.kind()).isEqualTo(Emitted.Kind.NEW);
    }
    assertThat(bodies).hasSize(200);
    assertThat(interactions).hasSize(200);
  }

  @Test
  void dispositionsLookLikeTheGuidesSample() throws Exception {
    List<Emitted> all = generate(PayloadKind.DISPOSITION, Mix.PLAIN, 300);
    Set<String> codes = new HashSet<>();
    Set<String> agents = new HashSet<>();
    Instant previous = Instant.MIN;
    for (Emitted e : all) {
      JsonNode n = JSON.readTree(e.body());
      assertThat(n.path("type").asText()).isEqualTo("Disposition");
      assertThat(n.path("interactionId").asText()).isEqualTo(e.interactionId());
      Instant t = Instant.parse(n.path("timestamp").asText());
      assertThat(t).isEqualTo(e.eventTime()).isAfter(previous);
      previous = t;
      codes.add(n.path("disposition").path("code").asText());
      agents.add(n.path("userId").asText());
    }
    assertThat(codes.size()).isGreaterThanOrEqualTo(6);
    assertThat(agents.size()).isGreaterThanOrEqualTo(15);
  }

  @Test
  void duplicatesOverridesAndLateEventsAppearAtTheAskedRatios() throws Exception {
    int n = 5_000;
    List<Emitted> all = generate(PayloadKind.DISPOSITION, new Mix(0.10, 0.05, 0.15), n);
    Map<Emitted.Kind, Integer> counts = new HashMap<>();
    all.forEach(e -> counts.merge(e.kind(), 1, Integer::sum));
    assertThat(counts.get(Emitted.Kind.DUPLICATE)).isBetween(400, 600);
    assertThat(counts.get(Emitted.Kind.LATE)).isBetween(175, 325);
    assertThat(counts.get(Emitted.Kind.OVERRIDE)).isBetween(600, 900);

    Set<String> earlierBodies = new HashSet<>();
    Map<String, Instant> latestByInteraction = new HashMap<>();
    Instant newest = Instant.MIN;
    for (Emitted e : all) {
      String body = new String(e.body());
      switch (e.kind()) {
        case DUPLICATE -> assertThat(earlierBodies).contains(body);
        case OVERRIDE -> {
          assertThat(latestByInteraction).containsKey(e.interactionId());
          assertThat(e.eventTime()).isAfter(latestByInteraction.get(e.interactionId()));
        }
        case LATE -> assertThat(e.eventTime()).isBefore(newest);
        case NEW -> assertThat(latestByInteraction).doesNotContainKey(e.interactionId());
      }
      if (e.kind() != Emitted.Kind.DUPLICATE) {
        assertThat(earlierBodies).doesNotContain(body);
        latestByInteraction.put(e.interactionId(), e.eventTime());
        newest = newest.isAfter(e.eventTime()) ? newest : e.eventTime();
      }
      earlierBodies.add(body);
    }
  }

  @Test
  void theSameSeedGivesTheSameStream() {
    Mix mix = new Mix(0.2, 0.1, 0.1);
    List<Emitted> a = generate(PayloadKind.ACTION_MAP, mix, 100);
    List<Emitted> b = generate(PayloadKind.ACTION_MAP, mix, 100);
    for (int i = 0; i < a.size(); i++) {
      assertThat(Arrays.equals(a.get(i).body(), b.get(i).body())).isTrue();
    }
  }

  @Test
  void ratiosAreChecked() {
    assertThatThrownBy(() -> new Mix(0.6, 0.3, 0.2)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Mix(-0.1, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PayloadKind.parse("nope"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(PayloadKind.parse("eventbridge-acw")).isEqualTo(PayloadKind.EVENTBRIDGE_ACW);
    assertThat(RetrySchedule.parse("open-messaging").retries()).isEqualTo(5);
    assertThat(RetrySchedule.parse("2@50ms"))
        .isEqualTo(new RetrySchedule(2, java.time.Duration.ofMillis(50)));
  }
}
