package dev.switchboard.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class DeliveryStatesDocTest {
  static final Pattern ROW = Pattern.compile("^\\| ([a-z_]+) \\| ([a-z_]+) \\|", Pattern.MULTILINE);

  @Test
  void theDocumentedTableAndTheCodeAllowTheSameMoves() throws Exception {
    String doc = Files.readString(Path.of("docs/delivery-states.md"));
    Set<String> documented = new HashSet<>();
    Matcher m = ROW.matcher(doc);
    while (m.find()) {
      if (!m.group(1).equals("from")) {
        documented.add(m.group(1) + "->" + m.group(2));
      }
    }
    Set<String> coded = new HashSet<>();
    for (DeliveryState from : DeliveryState.values()) {
      for (DeliveryState to : from.moves()) {
        coded.add(from.dbValue() + "->" + to.dbValue());
      }
    }
    assertThat(documented).isEqualTo(coded);
  }

  @Test
  void aForbiddenMoveIsRefused() {
    assertThatThrownBy(() -> DeliveryState.SKIPPED.requireMoveTo(DeliveryState.PENDING))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("SKIPPED");
    assertThat(DeliveryState.DEAD.requireMoveTo(DeliveryState.PENDING))
        .isEqualTo(DeliveryState.PENDING);
    assertThat(DeliveryState.PENDING.canMoveTo(DeliveryState.DELIVERED)).isFalse();
  }
}
