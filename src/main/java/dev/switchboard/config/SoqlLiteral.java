package dev.switchboard.config;

import dev.switchboard.expr.ExpressionException;
import java.math.BigDecimal;

/**
 * A value from an event written as one SOQL literal, the way a bind variable would be: text in
 * single quotes with Salesforce's escape sequences, so that no value can end its literal and add a
 * condition ({@code ' OR Name != '} stays one string); numbers, booleans and null as SOQL writes
 * them (docs/enrichment.md, "Salesforce queries", which cites the SOQL reference).
 */
public final class SoqlLiteral {

  private SoqlLiteral() {}

  /**
   * The literal for {@code value}.
   *
   * @param inLike whether the literal is the right side of {@code LIKE}, where {@code _} and {@code
   *     %} are wildcards unless escaped: a value from the event is matched as written, never as a
   *     pattern (the {@code \_} and {@code \%} sequences are valid only there)
   * @throws ExpressionException for an object, a list, or a number that is not finite
   */
  public static String of(Object value, boolean inLike) {
    if (value == null) {
      return "null";
    }
    if (value instanceof Boolean b) {
      return b.toString();
    }
    if (value instanceof Number n) {
      return number(n);
    }
    if (value instanceof String s) {
      return quoted(s, inLike);
    }
    throw new ExpressionException("is not text, a number, a boolean or null", -1, null);
  }

  /** {@code 'text'} with every character SOQL reserves in a quoted string escaped. */
  static String quoted(String s, boolean inLike) {
    StringBuilder out = new StringBuilder(s.length() + 2).append('\'');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '\'' -> out.append("\\'");
        case '"' -> out.append("\\\"");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '_', '%' -> out.append(inLike ? "\\" : "").append(c);
        default -> {
          if (c < 0x20 || c == 0x7f) {
            // no short sequence for it: the \\uXXXX form the reference lists
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('\'').toString();
  }

  private static String number(Number n) {
    if (n instanceof Double d || n instanceof Float) {
      double v = n.doubleValue();
      if (Double.isNaN(v) || Double.isInfinite(v)) {
        throw new ExpressionException("is not a finite number", -1, null);
      }
      if (v == Math.rint(v) && Math.abs(v) < 0x1p53) {
        return Long.toString((long) v);
      }
      return BigDecimal.valueOf(v).toPlainString(); // SOQL has no exponent notation
    }
    if (n instanceof BigDecimal b) {
      return b.toPlainString();
    }
    return n.toString();
  }
}
