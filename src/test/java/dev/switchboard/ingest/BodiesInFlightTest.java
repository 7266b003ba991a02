package dev.switchboard.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The heap the requests being ingested may hold (docs/adr/0011). */
class BodiesInFlightTest {

  @Test
  void aRequestIsReckonedFromItsDeclaredLengthOrTheSourcesLimit() {
    assertThat(BodiesInFlight.reckon(1_000, 1 << 20)).isEqualTo(4_000);
    assertThat(BodiesInFlight.reckon(-1, 1 << 20)).as("chunked: the limit").isEqualTo(4L << 20);
    assertThat(BodiesInFlight.reckon(5L << 20, 1 << 20))
        .as("never past the limit")
        .isEqualTo(4L << 20);
    assertThat(BodiesInFlight.reckon(0, 1 << 20)).isZero();
  }

  @Test
  void requestsPastTheLimitAreRefusedUntilOthersFinishButOneAloneAlwaysGoes() {
    BodiesInFlight bodies = new BodiesInFlight(10_000);
    assertThat(bodies.reserve(6_000)).isTrue();
    assertThat(bodies.reserve(3_000)).isTrue();
    assertThat(bodies.reserve(2_000)).as("past the limit").isFalse();
    assertThat(bodies.held()).isEqualTo(9_000);
    bodies.release(6_000);
    assertThat(bodies.reserve(2_000)).isTrue();
    bodies.release(3_000);
    bodies.release(2_000);
    assertThat(bodies.held()).isZero();
    assertThat(bodies.reserve(50_000)).as("alone, larger than the limit").isTrue();
    assertThat(bodies.reserve(1)).isFalse();
    bodies.release(50_000);
    assertThat(bodies.held()).isZero();
  }
}
