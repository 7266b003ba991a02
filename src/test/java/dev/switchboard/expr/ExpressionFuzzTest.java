package dev.switchboard.expr;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Fuzzed expression text and fuzzed JSON input (the first line is the expression, the rest the
 * payload). Compiling either works or throws {@link ExpressionException}, a clean configuration
 * error with a position; evaluating either yields a value or throws {@link ExpressionException},
 * never anything else (type errors, deep recursion and the time limit included). The native simple
 * form must agree with JSONata on everything it decides. Next to {@link Expression} because it
 * compares against the package-private {@code evaluateWithJsonata}; bench/fuzz.sh runs it longer.
 */
class ExpressionFuzzTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Map<String, Object> BINDINGS =
      Map.of(
          "headers",
          Map.of("webhook-id", "msg_1", "content-type", "application/json"),
          "source",
          "fuzz",
          "receivedAt",
          "2026-10-27T14:30:00Z");

  @FuzzTest(maxDuration = "60s")
  void compilesAndEvaluatesOrFailsWithExpressionException(byte[] data) throws Exception {
    String all = new String(data, StandardCharsets.UTF_8);
    int newline = all.indexOf('\n');
    String text = newline < 0 ? all : all.substring(0, newline);
    Object input = newline < 0 ? null : payload(all.substring(newline + 1));
    Expression expression;
    try {
      expression = Expression.compile(text);
    } catch (ExpressionException e) {
      assertThat(e.position()).isGreaterThanOrEqualTo(-1);
      assertThat(e.getMessage()).isNotNull();
      return;
    }
    String ours = outcome(() -> expression.evaluate(input, BINDINGS));
    String jsonata = outcome(() -> expression.evaluateWithJsonata(input, BINDINGS));
    if (!ours.startsWith("failed") && !jsonata.startsWith("failed")) {
      assertThat(ours).as("simple form agrees with JSONata on " + text).isEqualTo(jsonata);
    }
    outcome(() -> expression.evaluateToString(input, BINDINGS));
    outcome(() -> expression.test(input, BINDINGS));
  }

  /** The JSON value, or the text itself: a plain string payload is valid input too. */
  private static Object payload(String text) {
    try {
      return JSON.readValue(text, Object.class);
    } catch (java.io.IOException e) {
      return text;
    }
  }

  private interface Evaluation {
    Object run();
  }

  /** The result as JSON text, or "failed" when it threw the documented exception. */
  private static String outcome(Evaluation evaluation) throws Exception {
    try {
      return JSON.writeValueAsString(evaluation.run());
    } catch (ExpressionException e) {
      return "failed";
    }
  }
}
