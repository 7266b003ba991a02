package dev.switchboard.ingest;

import dev.switchboard.config.SourceConfig;
import java.util.List;
import java.util.Map;

/**
 * Reshapes a parsed body before anything reads or stores it: field aliases for schema drift (old
 * path → new path, only when the new one is absent), then redaction (remove, mask) and truncation
 * of over-long strings. Paths are dotted; a list on the way applies the rest of the path to each
 * element. Unknown fields are always kept.
 */
final class PayloadShaper {
  static final String MASK = "•••";

  private final Map<String, String> aliases;
  private final SourceConfig.Redact redact;
  private final Map<String, SourceConfig.Coerce> coerce;

  PayloadShaper(Map<String, String> aliases, SourceConfig.Redact redact) {
    this(aliases, redact, Map.of());
  }

  PayloadShaper(
      Map<String, String> aliases,
      SourceConfig.Redact redact,
      Map<String, SourceConfig.Coerce> coerce) {
    this.aliases = aliases;
    this.redact = redact;
    this.coerce = coerce;
  }

  /** Applies the aliases; returns whether anything moved. */
  boolean normalise(Object root) {
    boolean moved = false;
    for (Map.Entry<String, String> alias : aliases.entrySet()) {
      moved |= moveIfAbsent(root, alias.getKey(), alias.getValue());
    }
    return moved;
  }

  /**
   * Converts the values at the {@code coerce} paths that are of another type but convert cleanly:
   * text holding a JSON number to a number ({@code "45"} → 45), an integral number to an integer
   * ({@code 45.0} → 45), a number or boolean to text, {@code "true"}/{@code "false"} (any case) or
   * 0/1 to a boolean. Anything else (null, an object, {@code "45 s"}) is left as sent, for the
   * schema to judge. Returns the paths where a value was converted, each once.
   */
  List<String> coerce(Object root) {
    List<String> converted = new java.util.ArrayList<>(0);
    for (Map.Entry<String, SourceConfig.Coerce> rule : coerce.entrySet()) {
      boolean[] changed = new boolean[1];
      withParents(
          root,
          rule.getKey(),
          (parent, field) -> {
            Object value = parent.get(field);
            Object to = converted(value, rule.getValue());
            if (to != value) {
              parent.put(field, to);
              changed[0] = true;
            }
          });
      if (changed[0]) {
        converted.add(rule.getKey());
      }
    }
    return converted;
  }

  /** {@code value} as {@code type}, or {@code value} itself when it is one or does not convert. */
  static Object converted(Object value, SourceConfig.Coerce type) {
    return switch (type) {
      case NUMBER -> value instanceof String text ? numberIn(text, value) : value;
      case INTEGER -> {
        Object number = value instanceof String text ? numberIn(text, value) : value;
        yield integral(number, value);
      }
      case STRING ->
          switch (value) {
            case Double d -> java.math.BigDecimal.valueOf(d).toPlainString();
            case Number n -> n.toString();
            case Boolean b -> b.toString();
            case null, default -> value;
          };
      case BOOLEAN ->
          switch (value) {
            case String text when text.trim().equalsIgnoreCase("true") -> Boolean.TRUE;
            case String text when text.trim().equalsIgnoreCase("false") -> Boolean.FALSE;
            case Integer i when i == 0 || i == 1 -> i == 1;
            case Long l when l == 0 || l == 1 -> l == 1;
            case null, default -> value;
          };
    };
  }

  /** The JSON number {@code text} holds (spaces around it allowed), or {@code otherwise}. */
  private static Object numberIn(String text, Object otherwise) {
    String trimmed = text.trim();
    if (trimmed.isEmpty() || trimmed.length() > JsonBody.MAX_NUMBER_CHARS) {
      return otherwise;
    }
    try {
      Object parsed = JsonBody.MAPPER.readValue(trimmed, Object.class);
      if (parsed instanceof Double d && (d.isInfinite() || d.isNaN())) {
        return otherwise;
      }
      return parsed instanceof Number ? parsed : otherwise;
    } catch (java.io.IOException e) {
      return otherwise;
    }
  }

  /** An integral {@code number} as an integer, or {@code otherwise}. */
  private static Object integral(Object number, Object otherwise) {
    return switch (number) {
      case Integer i -> i;
      case Long l -> l;
      case java.math.BigInteger b -> b;
      case Double d when d == Math.rint(d) && Math.abs(d) < 0x1p53 -> {
        long l = d.longValue();
        yield l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE ? (Object) (int) l : (Object) l;
      }
      case null, default -> otherwise;
    };
  }

  /** Removes, masks and truncates; returns whether anything changed. */
  boolean redact(Object root) {
    int[] changes = new int[1];
    for (String path : redact.remove()) {
      withParents(
          root,
          path,
          (parent, field) -> {
            parent.remove(field);
            changes[0]++;
          });
    }
    for (String path : redact.mask()) {
      withParents(
          root,
          path,
          (parent, field) -> {
            Object value = parent.get(field);
            if (value != null) {
              parent.put(field, mask(String.valueOf(value)));
              changes[0]++;
            }
          });
    }
    boolean truncated = redact.maxFieldChars() > 0 && truncate(root, redact.maxFieldChars());
    return changes[0] > 0 || truncated;
  }

  /**
   * Keeps the first and last characters of a value and hides at least half of it: {@code
   * +15550001234} → {@code +1555•••1234}; shorter values keep a quarter at each end.
   */
  static String mask(String value) {
    int n = value.length();
    int head = n >= 12 ? 5 : n / 4;
    int tail = n >= 12 ? 4 : n / 4;
    return value.substring(0, head) + MASK + value.substring(n - tail);
  }

  @SuppressWarnings("unchecked")
  private static boolean truncate(Object node, int max) {
    boolean changed = false;
    if (node instanceof Map<?, ?> map) {
      for (Map.Entry<String, Object> e : ((Map<String, Object>) map).entrySet()) {
        if (e.getValue() instanceof String s && s.length() > max) {
          e.setValue(s.substring(0, max) + "…[truncated " + (s.length() - max) + " chars]");
          changed = true;
        } else {
          changed |= truncate(e.getValue(), max);
        }
      }
    } else if (node instanceof List<?> list) {
      List<Object> items = (List<Object>) list;
      for (int i = 0; i < items.size(); i++) {
        if (items.get(i) instanceof String s && s.length() > max) {
          items.set(i, s.substring(0, max) + "…[truncated " + (s.length() - max) + " chars]");
          changed = true;
        } else {
          changed |= truncate(items.get(i), max);
        }
      }
    }
    return changed;
  }

  private interface FieldAction {
    void apply(Map<String, Object> parent, String field);
  }

  private static void withParents(Object root, String path, FieldAction action) {
    String[] segments = path.split("\\.");
    visit(root, segments, 0, action);
  }

  @SuppressWarnings("unchecked")
  private static void visit(Object node, String[] segments, int index, FieldAction action) {
    if (node instanceof List<?> list) {
      list.forEach(item -> visit(item, segments, index, action));
      return;
    }
    if (!(node instanceof Map<?, ?> map)) {
      return;
    }
    Map<String, Object> object = (Map<String, Object>) map;
    if (index == segments.length - 1) {
      if (object.containsKey(segments[index])) {
        action.apply(object, segments[index]);
      }
    } else {
      visit(object.get(segments[index]), segments, index + 1, action);
    }
  }

  @SuppressWarnings("unchecked")
  private static boolean moveIfAbsent(Object root, String from, String to) {
    Object[] found = new Object[1];
    boolean[] present = new boolean[1];
    withParents(
        root,
        from,
        (parent, field) -> {
          found[0] = parent.get(field);
          present[0] = true;
        });
    if (!present[0] || !(root instanceof Map<?, ?>)) {
      return false;
    }
    boolean changed = false;
    String[] segments = to.split("\\.");
    Map<String, Object> node = (Map<String, Object>) root;
    for (int i = 0; i < segments.length - 1; i++) {
      Object next = node.get(segments[i]);
      if (next == null) {
        next = new java.util.LinkedHashMap<String, Object>();
        node.put(segments[i], next);
        changed = true;
      }
      if (!(next instanceof Map<?, ?>)) {
        return changed;
      }
      node = (Map<String, Object>) next;
    }
    String last = segments[segments.length - 1];
    if (!node.containsKey(last)) {
      node.put(last, found[0]);
      withParents(root, from, Map::remove);
      changed = true;
    }
    return changed;
  }
}
