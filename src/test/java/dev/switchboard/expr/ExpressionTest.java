package dev.switchboard.expr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ExpressionTest {

  /** Found while fuzzing: JSONata's parser overflowed the stack and the error escaped compile. */
  @Test
  void aDeeplyNestedExpressionIsACompileErrorNotAStackOverflow() {
    String deep = "(".repeat(20_000) + "1" + ")".repeat(20_000);
    assertThatThrownBy(() -> Expression.compile(deep))
        .isInstanceOf(ExpressionException.class)
        .hasMessageContaining("nested too deeply");
    // a sane depth still compiles and evaluates
    String fine = "(".repeat(20) + "1" + ")".repeat(20);
    assertThat(Expression.compile(fine).evaluate(Map.of(), Map.of())).isEqualTo(1);
  }
}
