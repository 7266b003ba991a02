package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class BacklogTallyTest {

  @Test
  void aRecountOfAQuietDestinationTakesTheStoresCount() {
    BacklogTally tally = new BacklogTally();
    tally.add("crm", 40);
    Map<String, Long> before = tally.snapshot();

    tally.recounted(before, Map.of("crm", 7L, "slack", 3L));

    assertThat(tally.of("crm")).isEqualTo(7);
    assertThat(tally.of("slack")).isEqualTo(3);
  }

  @Test
  void aDestinationThatMovesDuringEveryRecountStillFollowsTheStore() {
    // this node ingests while other nodes deliver: its own tally only ever grows
    BacklogTally tally = new BacklogTally();
    long stored = 0;
    for (int round = 0; round < 50; round++) {
      Map<String, Long> before = tally.snapshot();
      tally.add("crm", 10); // ingested here during the count
      stored += 10;
      stored -= 10; // delivered by other nodes
      tally.recounted(before, Map.of("crm", stored));
    }
    // without taking the count where the tally moved, it would read 500
    assertThat(tally.of("crm")).isEqualTo(10);
  }
}
