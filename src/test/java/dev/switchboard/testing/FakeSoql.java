package dev.switchboard.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The part of SOQL {@link FakeSalesforce} answers: {@code SELECT f, … FROM Object [WHERE c [AND|OR
 * c]…] [LIMIT n]}, each condition {@code Field =|!=|<>|LIKE literal}, with Salesforce's
 * quoted-string escapes ({@code \n \N \r \R \t \T \b \B \f \F \" \' \\}, {@code \_ \%} in LIKE
 * only, {@code \\uXXXX}; any other backslash is an error, as the SOQL reference says). String
 * comparisons ignore case, as SOQL's do. Anything else is a {@link Malformed} query.
 */
final class FakeSoql {

  /** A query the fake cannot parse: Salesforce's {@code MALFORMED_QUERY}. */
  static final class Malformed extends RuntimeException {
    Malformed(String message) {
      super(message);
    }
  }

  /** A parsed query. */
  record Query(
      List<String> fields,
      String object,
      Predicate<Map<String, Object>> where,
      Integer limit,
      List<String> columns) {}

  private final String text;
  private final List<String> tokens = new ArrayList<>();

  /** Per token: whether it was a quoted string, and whether it used \_ or \%. */
  private final List<int[]> kinds = new ArrayList<>();

  private int at;

  private FakeSoql(String text) {
    this.text = text;
    tokenize();
  }

  static Query parse(String text) {
    return new FakeSoql(text).query();
  }

  private Query query() {
    expectWord("SELECT");
    List<String> fields = new ArrayList<>();
    do {
      fields.add(identifier());
    } while (accept(","));
    expectWord("FROM");
    String object = identifier();
    Predicate<Map<String, Object>> where = r -> true;
    List<String> columns = new ArrayList<>();
    if (acceptWord("WHERE")) {
      where = or(columns);
    }
    Integer limit = null;
    if (acceptWord("LIMIT")) {
      String n = next();
      if (!n.matches("\\d+")) {
        throw new Malformed("unexpected token: '" + n + "'");
      }
      limit = Integer.parseInt(n);
    }
    if (at < tokens.size()) {
      throw new Malformed("unexpected token: '" + tokens.get(at) + "'");
    }
    return new Query(fields, object, where, limit, columns);
  }

  private Predicate<Map<String, Object>> or(List<String> columns) {
    Predicate<Map<String, Object>> p = and(columns);
    while (acceptWord("OR")) {
      p = p.or(and(columns));
    }
    return p;
  }

  private Predicate<Map<String, Object>> and(List<String> columns) {
    Predicate<Map<String, Object>> p = condition(columns);
    while (acceptWord("AND")) {
      p = p.and(condition(columns));
    }
    return p;
  }

  private Predicate<Map<String, Object>> condition(List<String> columns) {
    String field = identifier();
    columns.add(field);
    String op = next();
    boolean like = op.equalsIgnoreCase("LIKE");
    if (!like && !List.of("=", "!=", "<>").contains(op)) {
      throw new Malformed("unexpected token: '" + op + "'");
    }
    int index = at;
    String token = next();
    int[] kind = kinds.get(index);
    boolean quoted = kind[0] == 1;
    if (kind[1] == 1 && !like) {
      throw new Malformed("Invalid string literal: \\_ and \\% are valid only in LIKE");
    }
    Object value;
    if (quoted) {
      value = token;
    } else if (token.equalsIgnoreCase("null")) {
      value = null;
    } else if (token.equalsIgnoreCase("true") || token.equalsIgnoreCase("false")) {
      value = token.toLowerCase(Locale.ROOT);
    } else if (token.matches("-?\\d+(\\.\\d+)?")) {
      value = token;
    } else {
      throw new Malformed("unexpected token: '" + token + "'");
    }
    if (like) {
      if (!quoted) {
        throw new Malformed("LIKE takes a quoted string");
      }
      Pattern pattern = likePattern(token);
      return r -> {
        Object v = valueOf(r, field);
        return v != null && pattern.matcher(v.toString()).matches();
      };
    }
    boolean negate = !op.equals("=");
    return r -> {
      Object v = valueOf(r, field);
      boolean equal =
          value == null ? v == null : v != null && v.toString().equalsIgnoreCase(value.toString());
      return equal != negate;
    };
  }

  /** The LIKE pattern as a regex: % and _ wildcards; escaped ones (kept as \u0000%) literal. */
  private static Pattern likePattern(String value) {
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\u0000' && i + 1 < value.length()) {
        regex.append(Pattern.quote(String.valueOf(value.charAt(++i))));
      } else if (c == '%') {
        regex.append(".*");
      } else if (c == '_') {
        regex.append('.');
      } else {
        regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString(), Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
  }

  static Object valueOf(Map<String, Object> record, String field) {
    for (Map.Entry<String, Object> e : record.entrySet()) {
      if (e.getKey().equalsIgnoreCase(field)) {
        return e.getValue();
      }
    }
    return null;
  }

  private String identifier() {
    String t = next();
    int[] kind = kinds.get(at - 1);
    if (kind[0] == 1 || !t.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
      throw new Malformed("unexpected token: '" + t + "'");
    }
    return t;
  }

  private String next() {
    if (at >= tokens.size()) {
      throw new Malformed("unexpected end of query");
    }
    return tokens.get(at++);
  }

  private boolean accept(String symbol) {
    if (at < tokens.size() && kinds.get(at)[0] == 0 && tokens.get(at).equals(symbol)) {
      at++;
      return true;
    }
    return false;
  }

  private boolean acceptWord(String word) {
    if (at < tokens.size() && kinds.get(at)[0] == 0 && tokens.get(at).equalsIgnoreCase(word)) {
      at++;
      return true;
    }
    return false;
  }

  private void expectWord(String word) {
    if (!acceptWord(word)) {
      throw new Malformed(
          "unexpected token: '" + (at < tokens.size() ? tokens.get(at) : "<EOF>") + "'");
    }
  }

  private void tokenize() {
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '\'') {
        i = quoted(i);
      } else if (Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.') {
        int start = i;
        while (i < text.length()
            && (Character.isLetterOrDigit(text.charAt(i)) || "_.-".indexOf(text.charAt(i)) >= 0)) {
          i++;
        }
        add(text.substring(start, i), 0, 0);
      } else if (text.startsWith("!=", i) || text.startsWith("<>", i)) {
        add(text.substring(i, i + 2), 0, 0);
        i += 2;
      } else if ("=,()".indexOf(c) >= 0) {
        add(String.valueOf(c), 0, 0);
        i++;
      } else {
        throw new Malformed("unexpected token: '" + c + "'");
      }
    }
  }

  /** Reads the string literal opening at {@code start}; returns the index after it. */
  private int quoted(int start) {
    StringBuilder value = new StringBuilder();
    boolean likeEscape = false;
    int i = start + 1;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '\'') {
        add(value.toString(), 1, likeEscape ? 1 : 0);
        return i + 1;
      }
      if (c != '\\') {
        value.append(c);
        i++;
        continue;
      }
      if (i + 1 >= text.length()) {
        break;
      }
      char e = text.charAt(i + 1);
      switch (e) {
        case 'n', 'N' -> value.append('\n');
        case 'r', 'R' -> value.append('\r');
        case 't', 'T' -> value.append('\t');
        case 'b', 'B' -> value.append('\b');
        case 'f', 'F' -> value.append('\f');
        case '"', '\'', '\\' -> value.append(e);
        case '_', '%' -> {
          value.append('\u0000').append(e); // literal in a LIKE pattern
          likeEscape = true;
        }
        case 'u' -> {
          if (i + 6 > text.length() || !text.substring(i + 2, i + 6).matches("[0-9a-fA-F]{4}")) {
            throw new Malformed("Invalid string literal: bad \\u escape");
          }
          value.append((char) Integer.parseInt(text.substring(i + 2, i + 6), 16));
          i += 4;
        }
        default -> throw new Malformed("Invalid string literal: illegal escape \\" + e);
      }
      i += 2;
    }
    throw new Malformed("unterminated string literal");
  }

  private void add(String token, int quoted, int likeEscape) {
    tokens.add(token);
    kinds.add(new int[] {quoted, likeEscape});
  }
}
