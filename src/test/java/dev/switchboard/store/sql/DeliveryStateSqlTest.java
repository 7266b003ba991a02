package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.domain.DeliveryState;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class DeliveryStateSqlTest {
  @Test
  void aMovesConditionListsEveryStateTheTableLetsMoveThereInEnumOrder() {
    assertThat(DeliveryStateSql.from("state", DeliveryState.IN_FLIGHT))
        .isEqualTo("state IN ('pending', 'retry_scheduled')");
    assertThat(DeliveryStateSql.from("d.state", DeliveryState.PENDING))
        .isEqualTo("d.state IN ('in_flight', 'delivered', 'dead')");
  }

  @Test
  void anOperationNarrowsItsSourcesButCannotWidenThemBeyondTheTable() {
    assertThat(
            DeliveryStateSql.from(
                "state", DeliveryState.PENDING, DeliveryState.DEAD, DeliveryState.DELIVERED))
        .isEqualTo("state IN ('delivered', 'dead')");
    assertThat(DeliveryStateSql.from("state", DeliveryState.DEAD, DeliveryState.PENDING))
        .isEqualTo("state = 'pending'");
    assertThatThrownBy(() -> DeliveryStateSql.sources(DeliveryState.PENDING, DeliveryState.SKIPPED))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("from SKIPPED to PENDING");
  }

  @Test
  void unfinishedIsEveryStateThatIsNotFinal() {
    assertThat(DeliveryStateSql.UNFINISHED)
        .isEqualTo(
            EnumSet.of(
                DeliveryState.PENDING, DeliveryState.IN_FLIGHT, DeliveryState.RETRY_SCHEDULED));
  }
}
