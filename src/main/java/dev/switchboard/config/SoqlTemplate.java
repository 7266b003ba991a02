package dev.switchboard.config;

import dev.switchboard.config.EnrichPath.Literal;
import dev.switchboard.config.EnrichPath.Part;
import dev.switchboard.config.EnrichPath.Text;
import dev.switchboard.expr.ExpressionException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A {@code query:} of a {@code salesforce} enrichment (docs/enrichment.md): SOQL text, which is
 * trusted configuration, and {@code {placeholders}}, each bound as one SOQL literal by {@link
 * SoqlLiteral}; what {@link EnrichPath#query} reads and renders.
 */
final class SoqlTemplate {
  private static final Pattern ENDS_WITH_LIKE = Pattern.compile("(?i)(?:^|[\\s)])LIKE\\s*$");

  private SoqlTemplate() {}

  /**
   * The query's parts; each placeholder must stand where a literal may ({@code WHERE Phone =
   * {phone}}), not inside a quoted string, since its value is quoted for it.
   *
   * @throws IllegalArgumentException with what is wrong
   */
  static List<Part> parse(String text) {
    if (!text.stripLeading().regionMatches(true, 0, "SELECT", 0, 6)) {
      throw new IllegalArgumentException("a query starts with SELECT");
    }
    List<Part> parts = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    boolean quoted = false;
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (quoted) {
        literal.append(c);
        if (c == '\\' && i + 1 < text.length()) {
          literal.append(text.charAt(++i));
        } else if (c == '\'') {
          quoted = false;
        } else if (c == '{') {
          throw new IllegalArgumentException(
              "the { at character "
                  + (i + 1)
                  + " is inside a quoted string: write the placeholder without quotes"
                  + " ({phone}, not '{phone}'); its value is quoted for it");
        }
        i++;
        continue;
      }
      if (c == '}') {
        throw new IllegalArgumentException("a } without its { at character " + (i + 1));
      }
      if (c != '{') {
        quoted = c == '\'';
        literal.append(c);
        i++;
        continue;
      }
      int end = EnrichPath.closing(text, i);
      if (end < 0) {
        throw new IllegalArgumentException("the { at character " + (i + 1) + " is not closed");
      }
      String source = text.substring(i + 1, end).strip();
      if (source.isEmpty()) {
        throw new IllegalArgumentException("an empty {} at character " + (i + 1));
      }
      boolean inLike = ENDS_WITH_LIKE.matcher(literal).find();
      if (!literal.isEmpty()) {
        parts.add(new Text(literal.toString()));
        literal.setLength(0);
      }
      parts.add(new Literal(source, EnrichPath.compile(source), inLike));
      i = end + 1;
    }
    if (quoted) {
      throw new IllegalArgumentException("a quoted string is not closed");
    }
    if (!literal.isEmpty()) {
      parts.add(new Text(literal.toString()));
    }
    return parts;
  }

  /** One placeholder's value as a literal; a missing one fails the lookup. */
  static String literal(Literal l, Object value) {
    if (value == null) {
      // Phone = null would match every record without a phone: "none found" would be wrong
      throw new ExpressionException("{" + l.source() + "} has no value in this event", -1, null);
    }
    try {
      return SoqlLiteral.of(value, l.inLike());
    } catch (ExpressionException e) {
      throw new ExpressionException(
          "{" + l.source() + "} " + e.getMessage() + " in this event", -1, null);
    }
  }
}
