package dev.switchboard.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class EventTimesTest {
  @Test
  void isoTextWithOffsetIsNormalisedToUtc() {
    assertThat(EventTimes.parse("2026-10-27T16:30:00+02:00"))
        .isEqualTo(Instant.parse("2026-10-27T14:30:00Z"));
  }

  @Test
  void epochMillisecondsAsGenesysDetailEventsSendThem() {
    assertThat(EventTimes.parse(1761575400000L)).isEqualTo(Instant.parse("2025-10-27T14:30:00Z"));
  }

  @Test
  void textWithoutZoneIsTakenAsUtcAndGarbageIsNothing() {
    assertThat(EventTimes.parse("2026-10-27T14:30:00"))
        .isEqualTo(Instant.parse("2026-10-27T14:30:00Z"));
    assertThat(EventTimes.parse("yesterday")).isNull();
    assertThat(EventTimes.parse(null)).isNull();
  }
}
