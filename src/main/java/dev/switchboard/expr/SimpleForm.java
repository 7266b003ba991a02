package dev.switchboard.expr;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A native evaluator for the two forms that most keys and times are written in — a field path
 * ({@code detail.eventBody.conversationId}) and a concatenation of paths and string literals
 * ({@code interactionId & '|' & timestamp}) — because they run on every ingest request and a
 * JSONata evaluation costs far more than a map lookup. Anything it is not sure about (a list on the
 * path, a non-integer number, an object in a concatenation) it hands back to JSONata, so the result
 * is always JSONata's; {@code SimpleFormTest} checks that against JSONata itself.
 */
final class SimpleForm {
  /** Returned when this form cannot decide; the caller evaluates with JSONata. */
  static final Object UNDECIDED = new Object();

  private static final String JSONATA_WHITESPACE = " \t\n\r";

  private sealed interface Term {}

  private record Literal(String text) implements Term {}

  private record Path(String[] fields) implements Term {}

  private final List<Term> terms;

  private SimpleForm(List<Term> terms) {
    this.terms = terms;
  }

  /** The simple form of {@code text}, or null when it is anything else. */
  static SimpleForm parse(String text) {
    List<Term> terms = new ArrayList<>();
    int i = 0;
    int n = text.length();
    while (true) {
      i = skipSpace(text, i);
      if (i >= n) {
        return null;
      }
      char c = text.charAt(i);
      if (c == '\'' || c == '"') {
        int end = text.indexOf(c, i + 1);
        if (end < 0 || text.substring(i + 1, end).indexOf('\\') >= 0) {
          return null;
        }
        terms.add(new Literal(text.substring(i + 1, end)));
        i = end + 1;
      } else {
        List<String> fields = new ArrayList<>();
        while (true) {
          int start = i;
          if (i >= n || !Character.isLetter(text.charAt(i)) && text.charAt(i) != '_') {
            return null;
          }
          while (i < n && (Character.isLetterOrDigit(text.charAt(i)) || text.charAt(i) == '_')) {
            i++;
          }
          fields.add(text.substring(start, i));
          if (i < n && text.charAt(i) == '.') {
            i++;
          } else {
            break;
          }
        }
        if (isKeyword(fields)) {
          return null;
        }
        terms.add(new Path(fields.toArray(String[]::new)));
      }
      i = skipSpace(text, i);
      if (i >= n) {
        break;
      }
      if (text.charAt(i) != '&') {
        return null;
      }
      i++;
    }
    if (terms.size() == 1 && terms.get(0) instanceof Literal) {
      return null;
    }
    return new SimpleForm(List.copyOf(terms));
  }

  Object evaluate(Object input) {
    if (terms.size() == 1) {
      Object value = lookup(input, ((Path) terms.get(0)).fields());
      boolean plain =
          !(value instanceof List<?>)
              && value != MISSING_UNDECIDED
              && (!(value instanceof Number)
                  || value instanceof Integer
                  || value instanceof Long
                  || value instanceof Double);
      return plain ? unwrap(value) : UNDECIDED;
    }
    StringBuilder out = new StringBuilder();
    for (Term term : terms) {
      switch (term) {
        case Literal l -> out.append(l.text());
        case Path p -> {
          Object value = lookup(input, p.fields());
          if (value == MISSING) {
            continue;
          }
          if (value instanceof String s) {
            out.append(s);
          } else if (value instanceof Integer || value instanceof Long) {
            out.append(value);
          } else if (value instanceof Boolean b) {
            out.append(b);
          } else {
            return UNDECIDED;
          }
        }
      }
    }
    return out.toString();
  }

  private static final Object MISSING = new Object();
  private static final Object MISSING_UNDECIDED = new Object();

  private static Object lookup(Object input, String[] fields) {
    Object node = input;
    for (String field : fields) {
      if (node instanceof Map<?, ?> map) {
        if (!map.containsKey(field)) {
          return MISSING;
        }
        node = map.get(field);
      } else if (node == null) {
        return MISSING;
      } else {
        return node instanceof List<?> ? MISSING_UNDECIDED : MISSING;
      }
    }
    return node;
  }

  private static Object unwrap(Object value) {
    return value == MISSING ? null : value;
  }

  private static boolean isKeyword(List<String> fields) {
    if (fields.size() != 1) {
      return false;
    }
    return switch (fields.get(0)) {
      case "true", "false", "null", "and", "or", "in", "function" -> true;
      default -> false;
    };
  }

  /**
   * Skips what JSONata's tokenizer skips, and nothing more: {@link Character#isWhitespace} also
   * takes control characters such as U+001E, which JSONata reads as part of a name.
   */
  private static int skipSpace(String text, int i) {
    while (i < text.length() && JSONATA_WHITESPACE.indexOf(text.charAt(i)) >= 0) {
      i++;
    }
    return i;
  }
}
