package dev.switchboard.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Copies YAML into the plain values of a {@code settings} map: substituted text for scalars, {@code
 * List} for lists, {@code LinkedHashMap} (file order) for mappings. Keys whose value is absent or
 * null are left out, so "not in the map" always means "not configured".
 */
final class PlainValues {
  private PlainValues() {}

  /** Null when {@code node} is absent. */
  static Object of(YamlNodeReader node) {
    if (node.isList()) {
      return node.items().stream().map(PlainValues::of).toList();
    }
    return node.isMapping() ? mapOf(node, Set.of()) : node.value();
  }

  /** The mapping {@code node} as plain values, leaving out the keys in {@code except}. */
  static Map<String, Object> mapOf(YamlNodeReader node, Set<String> except) {
    Map<String, Object> map = new LinkedHashMap<>();
    node.entries()
        .forEach(
            (key, value) -> {
              Object plain = except.contains(key) ? null : of(value);
              if (plain != null) {
                map.put(key, plain);
              }
            });
    return map;
  }
}
