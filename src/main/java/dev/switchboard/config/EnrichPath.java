package dev.switchboard.config;

import dev.switchboard.expr.Expression;
import dev.switchboard.expr.ExpressionException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The API path a route's enrichment fetches: text written in the configuration, which is trusted,
 * and values taken from the event, which are not. Each value is percent-encoded as one path segment
 * (everything but {@code A-Z a-z 0-9 - . _ ~}), so a payload can fill in an id but never add a
 * segment, a {@code ../}, a query or a fragment: it cannot steer the lookup to another endpoint.
 *
 * <p>Two forms (docs/enrichment.md): {@code path:} a template whose {@code {placeholders}} are
 * expressions ({@code /api/v2/analytics/conversations/{detail.eventBody.conversationId}/details}),
 * and the older {@code get:} expression written as a concatenation of quoted text and values
 * ({@code '/api/v2/analytics/conversations/' & detail.eventBody.conversationId & '/details'}),
 * whose quoted parts are the text and whose other parts are the values.
 *
 * <p>A third form, {@code query:} for a {@code salesforce} enricher, is a SOQL query whose {@code
 * {placeholders}} are bound as SOQL literals by {@link SoqlLiteral} (quoted and escaped text,
 * numbers, booleans) instead of path segments; it renders as the data API's {@code /query?q=…}
 * path.
 *
 * <p>The {@code http} destination's {@code url:} and {@code headers:} templates are the same {@code
 * {placeholders}} (docs/connectors.md): its URL is rendered with the same one-segment encoding, and
 * a header value is {@link #fill filled} with the values as they are.
 */
public final class EnrichPath {

  sealed interface Part {}

  record Text(String text) implements Part {}

  record Value(String source, Expression expression) implements Part {}

  /** A value bound as one SOQL literal; {@code inLike} when it is the pattern of a LIKE. */
  record Literal(String source, Expression expression, boolean inLike) implements Part {}

  private final String key;
  private final String text;
  private final List<Part> parts;

  private EnrichPath(String key, String text, List<Part> parts) {
    this.key = key;
    this.text = text;
    this.parts = List.copyOf(parts);
  }

  /**
   * Reads a {@code path:} template.
   *
   * @throws IllegalArgumentException with what is wrong, for the configuration's problem list
   */
  public static EnrichPath template(String text) {
    return checked(new EnrichPath("path", text, parse(text)));
  }

  private static List<Part> parse(String text) {
    List<Part> parts = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '}') {
        throw new IllegalArgumentException("a } without its { at character " + (i + 1));
      }
      if (c != '{') {
        literal.append(c);
        i++;
        continue;
      }
      int end = closing(text, i);
      if (end < 0) {
        throw new IllegalArgumentException("the { at character " + (i + 1) + " is not closed");
      }
      String source = text.substring(i + 1, end).strip();
      if (source.isEmpty()) {
        throw new IllegalArgumentException("an empty {} at character " + (i + 1));
      }
      if (!literal.isEmpty()) {
        parts.add(new Text(literal.toString()));
        literal.setLength(0);
      }
      parts.add(new Value(source, compile(source)));
      i = end + 1;
    }
    if (!literal.isEmpty()) {
      parts.add(new Text(literal.toString()));
    }
    return parts;
  }

  /**
   * Reads a {@code get:} expression, which must be quoted text and values joined with {@code &}.
   *
   * @throws IllegalArgumentException with what is wrong
   */
  public static EnrichPath concatenation(String text) {
    return checked(new EnrichPath("get", text, GetConcatenation.parse(text)));
  }

  /**
   * Reads a header value's template ({@code Bearer {$contact.token}}): the same {@code
   * {placeholders}}, no URL rules, filled with {@link #fill}.
   *
   * @throws IllegalArgumentException with what is wrong
   */
  public static EnrichPath text(String text) {
    return new EnrichPath("header", text, parse(text));
  }

  /**
   * Reads a {@code query:} SOQL template. The text is trusted configuration; each {@code
   * {placeholder}} must stand where a literal may ({@code WHERE Phone = {phone}}), not inside a
   * quoted string, since its value is quoted for it.
   *
   * @throws IllegalArgumentException with what is wrong
   */
  public static EnrichPath query(String text) {
    return new EnrichPath("query", text, SoqlTemplate.parse(text));
  }

  /** The configuration key this came from: {@code path}, {@code get} or {@code query}. */
  public String key() {
    return key;
  }

  /** As written in the configuration. */
  public String text() {
    return text;
  }

  /**
   * The scheme, host and port when the path is written as an absolute URL ({@code
   * https://api.mypurecloud.com/api/v2/…}), else null.
   */
  public String origin() {
    String first = parts.isEmpty() || !(parts.get(0) instanceof Text t) ? "" : t.text();
    if (!hasScheme(first)) {
      return null;
    }
    int slash = first.indexOf('/', first.indexOf("//") + 2);
    return slash < 0 ? first : first.substring(0, slash);
  }

  /**
   * Whether an absolute path is under {@code apiUrl} (the enricher's API; the comparison ignores
   * the case of scheme and host and a trailing slash); true for a path that starts with {@code /}.
   */
  public boolean isUnder(String apiUrl) {
    String origin = origin();
    if (origin == null) {
      return true;
    }
    String base = apiUrl.endsWith("/") ? apiUrl.substring(0, apiUrl.length() - 1) : apiUrl;
    String rest = ((Text) parts.get(0)).text().substring(origin.length());
    String basePath = base.substring(originOf(base).length());
    return sameOrigin(origin, base) && rest.startsWith(basePath + "/");
  }

  /**
   * This path relative to {@code apiUrl}, which it {@link #isUnder}: what the enricher appends to
   * its API URL. Same key and text, so a reload still sees it unchanged.
   */
  public EnrichPath relativeTo(String apiUrl) {
    if (origin() == null) {
      return this;
    }
    String base = apiUrl.endsWith("/") ? apiUrl.substring(0, apiUrl.length() - 1) : apiUrl;
    String first = ((Text) parts.get(0)).text();
    int cut = origin().length() + base.substring(originOf(base).length()).length();
    List<Part> relative = new ArrayList<>(parts);
    relative.set(0, new Text(first.substring(cut)));
    return new EnrichPath(key, text, relative);
  }

  /**
   * The path for this event: the text as written, each value percent-encoded as one segment.
   *
   * @throws ExpressionException when a value fails at evaluation, or is missing, empty, {@code .},
   *     {@code ..}, or not text, a number or a boolean: nothing a retry could cure
   */
  public String render(Object input, Map<String, ?> bindings) {
    if (key.equals("query")) {
      return "/query?q=" + URLEncoder.encode(soql(input, bindings), StandardCharsets.UTF_8);
    }
    return expand(input, bindings);
  }

  /**
   * A {@code query:}'s SOQL for this event: the text as written, each value one SOQL literal.
   *
   * @throws ExpressionException when a value fails at evaluation, is missing (or JSON null), or is
   *     an object or a list
   */
  public String soql(Object input, Map<String, ?> bindings) {
    return expand(input, bindings);
  }

  private String expand(Object input, Map<String, ?> bindings) {
    StringBuilder out = new StringBuilder();
    for (Part part : parts) {
      switch (part) {
        case Text t -> out.append(t.text());
        case Value v -> out.append(encode(v, v.expression().evaluate(input, bindings)));
        case Literal l ->
            out.append(SoqlTemplate.literal(l, l.expression().evaluate(input, bindings)));
      }
    }
    return out.toString();
  }

  /**
   * The text for this event with each value as it is, not encoded: a header value's template
   * ({@link #text}). A value holding a line break (or another control character) is refused, so a
   * payload can never add a header.
   *
   * @throws ExpressionException when a value fails at evaluation, is missing, is not text, a number
   *     or a boolean, or holds a control character; the message names the placeholder, never the
   *     value
   */
  public String fill(Object input, Map<String, ?> bindings) {
    StringBuilder out = new StringBuilder();
    for (Part part : parts) {
      switch (part) {
        case Text t -> out.append(t.text());
        case Value v -> {
          String s = scalar(v, v.expression().evaluate(input, bindings));
          if (s.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
            throw new ExpressionException(
                "{" + v.source() + "} holds a line break or control character in this event",
                -1,
                null);
          }
          out.append(s);
        }
        case Literal l ->
            out.append(SoqlTemplate.literal(l, l.expression().evaluate(input, bindings)));
      }
    }
    return out.toString();
  }

  /**
   * The text with each placeholder replaced by what {@code replacement} makes of its expression as
   * written: the template's shape, for a message or a check, without any event.
   */
  public String withPlaceholders(UnaryOperator<String> replacement) {
    StringBuilder out = new StringBuilder();
    for (Part part : parts) {
      switch (part) {
        case Text t -> out.append(t.text());
        case Value v -> out.append(replacement.apply(v.source()));
        case Literal l -> out.append(replacement.apply(l.source()));
      }
    }
    return out.toString();
  }

  /** Whether the text has any {@code {placeholder}}. */
  public boolean hasPlaceholders() {
    return parts.stream().anyMatch(Value.class::isInstance);
  }

  /** Each placeholder's expression as written between the braces, in order. */
  public List<String> placeholders() {
    return parts.stream().filter(Value.class::isInstance).map(p -> ((Value) p).source()).toList();
  }

  /**
   * The {@code $variables} the placeholders read from their bindings: every {@code $name} outside
   * quotes that is not a function call ({@code $name(}), the root ({@code $$}) or a name the
   * expression binds itself ({@code $x := …}, a {@code function($x)} parameter). What the
   * configuration checks against the bindings a route gives.
   */
  public Set<String> variables() {
    return ExpressionVariables.of(placeholders());
  }

  /**
   * {@code value} percent-encoded as one URL path segment or query value: everything but {@code A-Z
   * a-z 0-9 - . _ ~} becomes {@code %XX} of its UTF-8 bytes, so {@code /}, {@code ?}, {@code #},
   * {@code &} and {@code =} stay inside it.
   */
  public static String encodeSegment(String value) {
    StringBuilder out = new StringBuilder();
    for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c >= 'a' && c <= 'z'
          || c >= 'A' && c <= 'Z'
          || c >= '0' && c <= '9'
          || c == '-'
          || c == '.'
          || c == '_'
          || c == '~') {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        out.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return out.toString();
  }

  /** A value that may fill a placeholder, as text: numbers without ".0". */
  private static String scalar(Value v, Object value) {
    if (value instanceof Double d && d == Math.rint(d) && Math.abs(d) < 0x1p53) {
      value = d.longValue();
    }
    if (value == null) {
      throw new ExpressionException("{" + v.source() + "} has no value in this event", -1, null);
    }
    if (!(value instanceof String || value instanceof Number || value instanceof Boolean)) {
      throw new ExpressionException(
          "{" + v.source() + "} is not text or a number in this event", -1, null);
    }
    return value.toString();
  }

  private static String encode(Value v, Object value) {
    String s = scalar(v, value);
    if (s.isEmpty() || s.equals(".") || s.equals("..")) {
      throw new ExpressionException(
          "{" + v.source() + "} is empty, . or .. in this event: not a path segment", -1, null);
    }
    return encodeSegment(s);
  }

  /** The text must make a legal path (or URL) whatever the values, starting with one "/". */
  private static EnrichPath checked(EnrichPath path) {
    StringBuilder sample = new StringBuilder();
    for (Part part : path.parts) {
      sample.append(part instanceof Text t ? t.text() : "x");
    }
    String s = sample.toString();
    boolean absolute = hasScheme(s);
    if (!absolute && (!s.startsWith("/") || s.startsWith("//"))) {
      throw new IllegalArgumentException(
          "the path must start with a single / (or be a URL on the enricher's API) in the text"
              + " written here, not in a value from the event");
    }
    if (absolute) {
      String first = path.parts.get(0) instanceof Text t ? t.text() : "";
      int hostStart = first.indexOf("//") + 2;
      if (first.indexOf('/', hostStart) < 0) {
        throw new IllegalArgumentException(
            "the URL's host and the / after it must be written out, not taken from the event");
      }
    }
    try {
      URI uri = new URI(absolute ? s : "http://h" + s);
      if (uri.getRawFragment() != null) {
        throw new IllegalArgumentException("the path may not have a #fragment");
      }
      if (absolute
          && !List.of("http", "https").contains(uri.getScheme().toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException("the URL must be http or https");
      }
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          "the text is not a legal URL path: " + e.getReason() + " at character " + e.getIndex());
    }
    return path;
  }

  private static boolean hasScheme(String s) {
    String lower = s.toLowerCase(Locale.ROOT);
    return lower.startsWith("http://") || lower.startsWith("https://");
  }

  private static String originOf(String url) {
    int slash = url.indexOf('/', url.indexOf("//") + 2);
    return slash < 0 ? url : url.substring(0, slash);
  }

  private static boolean sameOrigin(String a, String b) {
    String oa = originOf(a).toLowerCase(Locale.ROOT);
    String ob = originOf(b).toLowerCase(Locale.ROOT);
    return withPort(oa).equals(withPort(ob));
  }

  private static String withPort(String origin) {
    int hostStart = origin.indexOf("//") + 2;
    if (origin.indexOf(':', hostStart) >= 0 || origin.indexOf(']', hostStart) >= 0) {
      return origin;
    }
    return origin + (origin.startsWith("https") ? ":443" : ":80");
  }

  static Expression compile(String source) {
    try {
      return Expression.compile(source);
    } catch (ExpressionException e) {
      throw new IllegalArgumentException("bad expression " + source + ": " + e.getMessage());
    }
  }

  /** The index of the } that closes the { at {@code open}, skipping quoted text and nesting. */
  static int closing(String text, int open) {
    int depth = 0;
    for (int i = open; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\'' || c == '"' || c == '`') {
        i = endOfQuote(text, i);
        if (i < 0) {
          return -1;
        }
      } else if (c == '{') {
        depth++;
      } else if (c == '}' && --depth == 0) {
        return i;
      }
    }
    return -1;
  }

  static int endOfQuote(String text, int start) {
    char quote = text.charAt(start);
    for (int i = start + 1; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\' && quote != '`') {
        i++;
      } else if (c == quote) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof EnrichPath p && p.key.equals(key) && p.text.equals(text);
  }

  @Override
  public int hashCode() {
    return key.hashCode() * 31 + text.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }
}
