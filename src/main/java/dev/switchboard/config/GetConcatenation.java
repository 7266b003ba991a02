package dev.switchboard.config;

import dev.switchboard.config.EnrichPath.Part;
import dev.switchboard.config.EnrichPath.Text;
import dev.switchboard.config.EnrichPath.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The older {@code get:} form of an enrichment path (docs/enrichment.md): an expression written as
 * quoted text and values joined with {@code &}, whose quoted parts are the text and whose other
 * parts are the values; what {@link EnrichPath#concatenation} reads.
 */
final class GetConcatenation {
  private static final Set<String> OPERATOR_WORDS = Set.of("and", "or", "in");
  private static final String OPERATORS = "+-*/%=<>!~?:|;,^#@";

  private GetConcatenation() {}

  /**
   * The path's parts.
   *
   * @throws IllegalArgumentException when the text is not quoted text and values joined with &
   */
  static List<Part> parse(String text) {
    List<Part> parts = new ArrayList<>();
    for (String piece : splitConcatenation(text)) {
      String source = piece.strip();
      if (source.isEmpty()) {
        throw new IllegalArgumentException("an empty operand of &");
      }
      if (isQuoted(source)) {
        Object value = EnrichPath.compile(source).evaluate(null, Map.of());
        parts.add(new Text(String.valueOf(value)));
      } else if (isOperand(source)) {
        parts.add(new Value(source, EnrichPath.compile(source)));
      } else {
        throw new IllegalArgumentException(
            "cannot tell which parts of the path come from the event: write get as quoted text"
                + " and values joined with & (such as '/api/v2/conversations/' & id), or use"
                + " path: with {placeholders}");
      }
    }
    return parts;
  }

  /** Splits at each {@code &} outside quotes, brackets, parentheses and braces. */
  private static List<String> splitConcatenation(String text) {
    List<String> pieces = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\'' || c == '"' || c == '`') {
        i = EnrichPath.endOfQuote(text, i);
        if (i < 0) {
          throw new IllegalArgumentException("a quote is not closed");
        }
      } else if (c == '(' || c == '[' || c == '{') {
        depth++;
      } else if (c == ')' || c == ']' || c == '}') {
        depth--;
      } else if (c == '/' && i + 1 < text.length() && text.charAt(i + 1) == '*') {
        throw new IllegalArgumentException("comments are not allowed in get");
      } else if (c == '&' && depth == 0) {
        pieces.add(text.substring(start, i));
        start = i + 1;
      }
    }
    pieces.add(text.substring(start));
    return pieces;
  }

  /** One string literal and nothing else. */
  private static boolean isQuoted(String source) {
    char c = source.charAt(0);
    return (c == '\'' || c == '"') && EnrichPath.endOfQuote(source, 0) == source.length() - 1;
  }

  /**
   * An operand that {@code &} binds to as a whole: no operator outside quotes, brackets,
   * parentheses and braces (a field path, a variable, a function call, a parenthesised expression),
   * so splitting at {@code &} changes nothing in what it means.
   */
  private static boolean isOperand(String source) {
    int depth = 0;
    StringBuilder word = new StringBuilder();
    for (int i = 0; i < source.length(); i++) {
      char c = source.charAt(i);
      if (c == '\'' || c == '"' || c == '`') {
        i = EnrichPath.endOfQuote(source, i);
        if (i < 0) {
          return false;
        }
        word.setLength(0);
        continue;
      }
      if (c == '(' || c == '[' || c == '{') {
        depth++;
      } else if (c == ')' || c == ']' || c == '}') {
        depth--;
      } else if (depth == 0) {
        if (OPERATORS.indexOf(c) >= 0) {
          return false;
        }
        if (Character.isLetterOrDigit(c) || c == '_' || c == '$') {
          word.append(c);
          continue;
        }
        if (c == '.' && i + 1 < source.length() && source.charAt(i + 1) == '.') {
          return false; // a range
        }
      }
      if (OPERATOR_WORDS.contains(word.toString())) {
        return false;
      }
      word.setLength(0);
    }
    return !OPERATOR_WORDS.contains(word.toString());
  }
}
