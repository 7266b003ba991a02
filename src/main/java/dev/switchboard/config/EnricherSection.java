package dev.switchboard.config;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code enrichers.<name>}: {@code type} and {@code rate_limit} here, the enricher's own keys
 * by its {@link EnricherType}. Also gives the API URL of each enricher, which the routes'
 * enrichment paths are checked against.
 */
final class EnricherSection {
  static final List<String> COMMON_KEYS = List.of("type", "rate_limit");

  private final List<EnricherType<?>> types;
  private final Map<String, String> apiUrls = new LinkedHashMap<>();
  private final Map<String, EnricherType<?>> typesByName = new LinkedHashMap<>();

  EnricherSection(List<EnricherType<?>> types) {
    this.types = List.copyOf(types);
  }

  Map<String, EnricherConfig> read(YamlNodeReader enrichers) {
    Map<String, EnricherConfig> result = new LinkedHashMap<>();
    enrichers.namedMappings().forEach((name, node) -> result.put(name, readEnricher(name, node)));
    return result;
  }

  /**
   * The API URL each enricher read so far calls, by name (an enricher that says none is left out).
   */
  Map<String, String> apiUrls() {
    return apiUrls;
  }

  /** The type of each enricher read so far whose type is known, by name. */
  Map<String, EnricherType<?>> types() {
    return typesByName;
  }

  private EnricherConfig readEnricher(String name, YamlNodeReader node) {
    List<String> names = types.stream().map(EnricherType::name).toList();
    String typeName = node.oneOf("type", "enricher type", names, null);
    if (!node.has("type")) {
      node.problem("type", "type is required: one of " + String.join(", ", names));
    }
    EnricherType<?> type =
        types.stream().filter(t -> t.name().equals(typeName)).findFirst().orElse(null);
    // a known type's own keys; without one, any type's, so only true typos are reported
    Set<String> known = new LinkedHashSet<>(COMMON_KEYS);
    (type != null ? List.<EnricherType<?>>of(type) : types).forEach(t -> known.addAll(t.keys()));
    node.checkKeys(known);
    // a missing or unknown type is checked as the first type (genesys-cloud), so that the
    // enricher's other problems, and its routes' paths, are reported in the same run
    EnricherType<?> checkedAs = type != null ? type : types.get(0);
    if (type != null) {
      typesByName.put(name, type);
    }
    SettingsReader reader = new SettingsReader(node);
    EnricherSettings settings = checkedAs.read(reader);
    String apiUrl = checkedAs.apiUrl(reader);
    if (apiUrl != null) {
      apiUrls.put(name, apiUrl);
    }
    PlainValues.mapOf(node, Set.copyOf(COMMON_KEYS)); // every value substituted, as before
    return new EnricherConfig(
        name, typeName, type == null ? null : settings, node.rateLimit("rate_limit"));
  }
}
