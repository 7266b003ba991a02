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

  @Test
  void fastPathAgreesWithTheGeneralParser() {
    for (String t :
        new String[] {
          "2026-10-27T14:30:00Z",
          "2026-10-27T14:30:00.4Z",
          "2026-05-14T18:32:11.450Z",
          "2024-02-29T23:59:59.123456789Z",
          "2026-04-14T10:12:44.318Z"
        }) {
      assertThat(EventTimes.parseUtcFast(t)).as(t).isEqualTo(Instant.parse(t));
    }
    assertThat(EventTimes.parseUtcFast("2026-02-30T00:00:00Z")).isNull();
    assertThat(EventTimes.parseUtcFast("2026-10-27T14:30:00+02:00")).isNull();
    assertThat(EventTimes.parseUtcFast("2026-10-27 14:30:00Z")).isNull();
    assertThat(EventTimes.parseUtcFast("2026-10-27T14:30:00.Z")).isNull();
  }

  @Test
  void timesOutsideTheStorableRangeAreNothing() {
    assertThat(EventTimes.parse("+300000000-01-01T00:00:00Z")).isNull();
    assertThat(EventTimes.parse("123456789012345678901234")).isNull();
    assertThat(EventTimes.parse(Long.MAX_VALUE)).isNull();
    assertThat(EventTimes.parse("9999-12-31T23:59:59Z")).isNotNull();
  }
}
