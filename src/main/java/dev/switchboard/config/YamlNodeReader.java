package dev.switchboard.config;

import dev.switchboard.expr.Expression;
import dev.switchboard.expr.ExpressionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads one node of a composed YAML document, knowing its dotted path and line, so that every
 * problem can be reported where it is. Readers never throw: a wrong value is recorded in {@link
 * Problems} and the default is returned, so reading goes on and finds the next problem too.
 *
 * <p>An absent key and a YAML null ({@code key:} with nothing, {@code ~}) read the same: absent.
 * Scalars are substituted ({@link Substitutor}) once, when first read, before any conversion.
 */
final class YamlNodeReader {

  /**
   * A substituted scalar; {@code value} is null when substitution failed (already reported).
   *
   * @param raw the text as written, used in messages instead of a substituted value
   */
  record Scalar(String value, String raw, boolean substituted, int line, String path) {
    /** The value for a message: quoted as written, or only the reference when substituted. */
    String shown() {
      return substituted ? "(from " + raw + ")" : "\"" + value + "\"";
    }
  }

  private final YamlDocument doc;
  private final Node node;
  private final String path;
  private final int line;

  private YamlNodeReader(YamlDocument doc, Node node, String path, int line) {
    this.doc = doc;
    this.node = YamlDocument.isNull(node) ? null : node;
    this.path = path;
    this.line = line;
  }

  /** The document's top; what is missing there is not tied to a line (line 0). */
  static YamlNodeReader root(YamlDocument doc, Node node) {
    return new YamlNodeReader(doc, node, "", 0);
  }

  boolean present() {
    return node != null;
  }

  String path() {
    return path;
  }

  int line() {
    return line;
  }

  String childPath(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  // --- problems ---

  void problem(String message) {
    doc.problems.add(line, path, message);
  }

  void problem(String key, String message) {
    child(key).problem(message);
  }

  void problem(Scalar scalar, String message) {
    doc.problems.add(scalar.line(), scalar.path(), message);
  }

  // --- structure ---

  boolean isList() {
    return node instanceof SequenceNode;
  }

  boolean isMapping() {
    return node instanceof MappingNode;
  }

  boolean has(String key) {
    return child(key).present();
  }

  /** The reader for {@code key}; absent (at this node's line) when the key is not there. */
  YamlNodeReader child(String key) {
    NodeTuple tuple = node instanceof MappingNode ? tuples().get(key) : null;
    if (tuple == null) {
      return new YamlNodeReader(doc, null, childPath(key), line);
    }
    return new YamlNodeReader(
        doc, tuple.getValueNode(), childPath(key), lineOf(tuple.getKeyNode()));
  }

  /** This node as a mapping; absent, with a problem, when it is something else. */
  YamlNodeReader expectMapping() {
    return expect(MappingNode.class, "a mapping of keys");
  }

  YamlNodeReader mapping(String key) {
    return child(key).expectMapping();
  }

  /** The entries of this mapping in file order, e.g. the sources by name. */
  Map<String, YamlNodeReader> entries() {
    Map<String, YamlNodeReader> entries = new LinkedHashMap<>();
    if (node instanceof MappingNode) {
      for (String key : tuples().keySet()) {
        entries.put(key, child(key));
      }
    }
    return entries;
  }

  /**
   * The entries of this mapping of named mappings (sources, routes, …); an entry that is a list or
   * a single value is reported and left out, an empty one is kept (and reads as absent).
   */
  Map<String, YamlNodeReader> namedMappings() {
    Map<String, YamlNodeReader> named = new LinkedHashMap<>();
    entries()
        .forEach(
            (name, entry) -> {
              YamlNodeReader mapping = entry.expectMapping();
              if (mapping.present() || !entry.present()) {
                named.put(name, entry);
              }
            });
    return named;
  }

  /** The items of this list, each with its {@code [i]} path and own line. */
  List<YamlNodeReader> items() {
    List<YamlNodeReader> items = new ArrayList<>();
    if (expect(SequenceNode.class, "a list").node instanceof SequenceNode seq) {
      List<Node> nodes = seq.getValue();
      for (int i = 0; i < nodes.size(); i++) {
        items.add(
            new YamlNodeReader(doc, nodes.get(i), path + "[" + i + "]", lineOf(nodes.get(i))));
      }
    }
    return items;
  }

  /** Reports every key of this mapping that is not in {@code known}, with a suggestion. */
  void checkKeys(Collection<String> known) {
    if (!(node instanceof MappingNode)) {
      return;
    }
    for (Map.Entry<String, NodeTuple> entry : tuples().entrySet()) {
      if (!known.contains(entry.getKey())) {
        int keyLine = lineOf(entry.getValue().getKeyNode());
        doc.problems.add(
            keyLine,
            childPath(entry.getKey()),
            "unknown key \"" + entry.getKey() + "\"" + DidYouMean.hint(entry.getKey(), known));
      }
    }
  }

  // --- scalars ---

  /** This node's substituted scalar, or null when absent; a list or mapping is a problem. */
  Scalar scalar() {
    return node == null ? null : doc.scalar(node, path);
  }

  /** The text of {@code key}, or null when absent or unusable. */
  String string(String key) {
    Scalar scalar = child(key).scalar();
    return scalar == null ? null : scalar.value();
  }

  String string(String key, String defaultValue) {
    YamlNodeReader child = child(key);
    return child.present() ? child.value() : defaultValue;
  }

  /** This node's text, or null when absent or unusable. */
  String value() {
    Scalar scalar = scalar();
    return scalar == null ? null : scalar.value();
  }

  /** The text of {@code key}; absent or empty is a problem. */
  String required(String key) {
    YamlNodeReader child = child(key);
    if (!child.present()) {
      child.problem(key + " is required");
      return null;
    }
    Scalar scalar = child.scalar();
    if (scalar.value() != null && scalar.value().isBlank()) {
      problem(scalar, key + " must not be empty");
      return null;
    }
    return scalar.value();
  }

  /** One of {@code allowed} (compared as written), else a problem naming what is expected. */
  String oneOf(String key, String noun, List<String> allowed, String defaultValue) {
    Scalar scalar = child(key).scalar();
    if (scalar == null || scalar.value() == null) {
      return defaultValue;
    }
    if (allowed.contains(scalar.value())) {
      return scalar.value();
    }
    String hint = DidYouMean.hint(scalar.value(), allowed);
    String expected = hint.isEmpty() ? "; expected one of " + String.join(", ", allowed) : hint;
    problem(scalar, "unknown " + noun + " " + scalar.shown() + expected);
    return defaultValue;
  }

  <T> T parse(String key, T defaultValue, String noun, Function<String, T> parser) {
    return convert(child(key).scalar(), defaultValue, noun, parser);
  }

  /** {@code parser} applied to a usable scalar; its complaint becomes "bad noun value: …". */
  <T> T convert(Scalar scalar, T defaultValue, String noun, Function<String, T> parser) {
    if (scalar == null || scalar.value() == null) {
      return defaultValue;
    }
    try {
      return parser.apply(scalar.value());
    } catch (IllegalArgumentException e) {
      problem(scalar, "bad " + noun + " " + scalar.shown() + ": " + e.getMessage());
      return defaultValue;
    }
  }

  Duration duration(String key, Duration defaultValue) {
    return parse(key, defaultValue, "duration", ConfigValues::duration);
  }

  long sizeBytes(String key, long defaultValue) {
    return parse(key, defaultValue, "size", ConfigValues::sizeBytes);
  }

  RateLimit rateLimit(String key) {
    return parse(key, null, "rate limit", ConfigValues::rateLimit);
  }

  long number(String key, long defaultValue, long min, long max) {
    return parse(key, defaultValue, key, text -> ConfigValues.wholeNumber(text, min, max));
  }

  int integer(String key, int defaultValue, int min, int max) {
    return (int) number(key, defaultValue, min, max);
  }

  boolean bool(String key, boolean defaultValue) {
    return parse(key, defaultValue, key, ConfigValues::bool);
  }

  /** Compiles the expression at {@code key}; null when absent or when it does not compile. */
  Expression expression(String key) {
    Scalar scalar = child(key).scalar();
    if (scalar == null || scalar.value() == null) {
      return null;
    }
    try {
      return Expression.compile(scalar.value());
    } catch (ExpressionException e) {
      String at = e.position() >= 0 ? " at position " + e.position() : "";
      problem(scalar, "JSONata syntax error" + at + ": " + e.getMessage());
      return null;
    }
  }

  // --- collections ---

  /** The items of the list at {@code key} as scalars (unusable items left out). */
  List<Scalar> scalars(String key) {
    List<Scalar> scalars = new ArrayList<>();
    for (YamlNodeReader item : child(key).items()) {
      Scalar scalar = item.scalar();
      if (scalar != null && scalar.value() != null) {
        scalars.add(scalar);
      }
    }
    return scalars;
  }

  List<String> strings(String key) {
    return scalars(key).stream().map(Scalar::value).toList();
  }

  /** The mapping at {@code key} with text values, in file order; empty when absent. */
  Map<String, String> stringMap(String key) {
    Map<String, String> map = new LinkedHashMap<>();
    mapping(key).entries().forEach((k, v) -> map.put(k, v.value()));
    map.values().removeIf(Objects::isNull);
    return map;
  }

  // --- internals ---

  private YamlNodeReader expect(Class<? extends Node> type, String what) {
    if (node == null || type.isInstance(node)) {
      return this;
    }
    problem("expected " + what + ", found " + kind(node));
    return new YamlNodeReader(doc, null, path, line);
  }

  private Map<String, NodeTuple> tuples() {
    return doc.tuples((MappingNode) node, path);
  }

  private static int lineOf(Node node) {
    return YamlDocument.lineOf(node);
  }

  private static String kind(Node node) {
    return YamlDocument.kind(node);
  }
}
