package dev.switchboard.expr;

import com.dashjoin.jsonata.JException;
import com.dashjoin.jsonata.Jsonata;
import java.util.Map;
import java.util.Objects;

/**
 * A JSONata expression compiled once, when the configuration loads, and evaluated many times on
 * many threads. The payload is the root; bindings ({@code $headers}, {@code $source}, …) are passed
 * per evaluation in a fresh frame, so evaluations never share state.
 *
 * <p>Inputs are the plain Java values Jackson produces for JSON (Map, List, String, Number,
 * Boolean, null).
 */
public final class Expression {
  private static final long TIME_LIMIT_MS = 1_000;
  private static final int DEPTH_LIMIT = 200;

  private final String text;
  private final Jsonata compiled;
  private final SimpleForm simple;

  private Expression(String text, Jsonata compiled) {
    this.text = text;
    this.compiled = compiled;
    this.simple = SimpleForm.parse(text);
    // inputs are what Jackson parsed: already plain JSON types, no need to walk them each time
    compiled.setValidateInput(false);
  }

  /**
   * Compiles {@code text}.
   *
   * @throws ExpressionException with the 0-based character position of a syntax error
   */
  public static Expression compile(String text) {
    Objects.requireNonNull(text, "text");
    try {
      return new Expression(text, Jsonata.jsonata(text));
    } catch (JException e) {
      throw new ExpressionException(describe(e), e.getLocation(), e);
    } catch (RuntimeException e) {
      throw new ExpressionException(String.valueOf(e.getMessage()), -1, e);
    } catch (StackOverflowError e) {
      // JSONata's parser recurses once per nesting level: some hundreds of "(" exhaust a stack
      throw new ExpressionException("the expression is nested too deeply", -1, e);
    }
  }

  /**
   * Evaluates against {@code input} with {@code bindings} (names without the {@code $}).
   *
   * @return the result, or null when the expression yields nothing
   * @throws ExpressionException when evaluation fails (type errors, time limit)
   */
  public Object evaluate(Object input, Map<String, ?> bindings) {
    if (simple != null) {
      Object value = simple.evaluate(input);
      if (value != SimpleForm.UNDECIDED) {
        return value;
      }
    }
    return evaluateWithJsonata(input, bindings);
  }

  /** Always through JSONata, never the native simple form (tests compare the two). */
  Object evaluateWithJsonata(Object input, Map<String, ?> bindings) {
    try {
      Jsonata.Frame frame = compiled.createFrame();
      frame.setRuntimeBounds(TIME_LIMIT_MS, DEPTH_LIMIT);
      bindings.forEach(frame::bind);
      Object result = compiled.evaluate(input, frame);
      return result == Jsonata.NULL_VALUE ? null : result;
    } catch (JException e) {
      throw new ExpressionException(describe(e), e.getLocation(), e);
    } catch (RuntimeException | StackOverflowError e) {
      throw new ExpressionException(String.valueOf(e.getMessage()), -1, e);
    }
  }

  /** Evaluates and converts the result to text: null for nothing, numbers without ".0". */
  public String evaluateToString(Object input, Map<String, ?> bindings) {
    Object value = evaluate(input, bindings);
    if (value == null) {
      return null;
    }
    if (value instanceof Double d && d == Math.rint(d) && Math.abs(d) < 0x1p53) {
      return Long.toString(d.longValue());
    }
    return value.toString();
  }

  /** Evaluates as a filter: JSONata truthiness, nothing is false. */
  public boolean test(Object input, Map<String, ?> bindings) {
    Object value = evaluate(input, bindings);
    return value != null && Jsonata.boolize(value);
  }

  public String text() {
    return text;
  }

  /** Same text, same expression: lets a reload tell a changed route from an unchanged one. */
  @Override
  public boolean equals(Object other) {
    return other instanceof Expression e && e.text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  private static String describe(JException e) {
    String message = e.getMessage();
    return message == null ? e.getError() : message;
  }

  @Override
  public String toString() {
    return text;
  }
}
