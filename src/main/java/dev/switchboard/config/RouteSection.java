package dev.switchboard.config;

import dev.switchboard.config.RouteConfig.Enrich;
import dev.switchboard.config.RouteConfig.Ordering;
import dev.switchboard.config.RouteConfig.Stale;
import dev.switchboard.expr.Expression;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads {@code routes.<name>}, and checks that every name a route uses (source, destination,
 * enricher) is declared in the file.
 */
final class RouteSection {
  static final List<String> ROUTE_KEYS =
      List.of(
          "from",
          "when",
          "when_enriched",
          "transform",
          "to",
          "method",
          "ordering",
          "stale",
          "on_dead",
          "reorder_window",
          "delay",
          "enrich");

  /** The methods a route may set for its deliveries ({@code http} destinations). */
  static final List<String> METHODS = List.of("GET", "POST", "PUT", "PATCH", "DELETE");

  /** A delivery held longer than this is a typo, not a schedule. */
  static final Duration MAX_DELAY = Duration.ofDays(7);

  static final Duration MAX_REORDER_WINDOW = Duration.ofHours(1);
  static final List<String> ENRICH_KEYS = List.of("using", "path", "get", "query", "as");

  /** The keys that say what an enrichment fetches; which ones apply depends on the enricher. */
  static final List<String> LOOKUP_KEYS = List.of("path", "get", "query");

  /** Names the expression bindings already use; an enrichment may not hide them. */
  static final Set<String> RESERVED_BINDINGS =
      Set.of("headers", "source", "eventId", "eventTime", "receivedAt");

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private RouteSection() {}

  /**
   * @param sources, destinations, enrichers the names declared in the file, valid or not, so that
   *     one broken declaration does not also make every route using it a problem
   * @param apiUrls the API URL of each valid enricher, which an enrichment path may name
   * @param enricherTypes the type of each enricher whose type is known, which says whether its
   *     enrichments give a path or a query
   */
  static Map<String, RouteConfig> readRoutes(
      YamlNodeReader routes,
      Set<String> sources,
      Set<String> destinations,
      Set<String> enrichers,
      Map<String, String> apiUrls,
      Map<String, EnricherType<?>> enricherTypes) {
    Map<String, RouteConfig> result = new LinkedHashMap<>();
    routes
        .namedMappings()
        .forEach(
            (name, route) -> {
              route.checkKeys(ROUTE_KEYS);
              String from = reference(route, "from", "source", sources);
              String to = reference(route, "to", "destination", destinations);
              Ordering ordering = readOrdering(route);
              Enrich enrich =
                  readEnrich(route.mapping("enrich"), enrichers, apiUrls, enricherTypes);
              result.put(
                  name,
                  new RouteConfig(
                      name,
                      from,
                      route.expression("when"),
                      route.expression("transform"),
                      to,
                      ordering,
                      readStale(route, ordering),
                      readOnDead(route, ordering),
                      enrich,
                      route.oneOf("method", "HTTP method", METHODS, null),
                      readWhenEnriched(route, enrich),
                      readHold(route, "delay", MAX_DELAY),
                      readReorderWindow(route, ordering)));
            });
    return result;
  }

  private static Ordering readOrdering(YamlNodeReader route) {
    String value = route.oneOf("ordering", "ordering", List.of("none", "per-key"), "none");
    return value.equals("per-key") ? Ordering.PER_KEY : Ordering.NONE;
  }

  private static Expression readWhenEnriched(YamlNodeReader route, Enrich enrich) {
    if (route.has("when_enriched") && !route.has("enrich")) {
      route.problem(
          "when_enriched",
          "when_enriched is decided after the enrichment: add enrich: or use when");
    }
    return route.expression("when_enriched");
  }

  private static Duration readHold(YamlNodeReader route, String key, Duration max) {
    Duration value = route.duration(key, Duration.ZERO);
    if (value != null && value.compareTo(max) > 0) {
      route.problem(key, key + " is at most " + max.toHours() + "h");
    }
    return value == null ? Duration.ZERO : value;
  }

  private static Duration readReorderWindow(YamlNodeReader route, Ordering ordering) {
    if (route.has("reorder_window") && ordering != Ordering.PER_KEY) {
      route.problem("reorder_window", "reorder_window applies only with ordering: per-key");
    }
    return readHold(route, "reorder_window", MAX_REORDER_WINDOW);
  }

  private static Stale readStale(YamlNodeReader route, Ordering ordering) {
    String value = route.oneOf("stale", "stale", List.of("skip", "deliver"), "skip");
    if (route.has("stale") && ordering != Ordering.PER_KEY) {
      route.problem("stale", "stale applies only with ordering: per-key");
    }
    return value.equals("deliver") ? Stale.DELIVER : Stale.SKIP;
  }

  private static RouteConfig.OnDead readOnDead(YamlNodeReader route, Ordering ordering) {
    String value = route.oneOf("on_dead", "on_dead", List.of("continue", "block"), "continue");
    if (route.has("on_dead") && ordering != Ordering.PER_KEY) {
      route.problem("on_dead", "on_dead applies only with ordering: per-key");
    }
    return value.equals("block") ? RouteConfig.OnDead.BLOCK : RouteConfig.OnDead.CONTINUE;
  }

  private static Enrich readEnrich(
      YamlNodeReader enrich,
      Set<String> enrichers,
      Map<String, String> apiUrls,
      Map<String, EnricherType<?>> enricherTypes) {
    if (!enrich.present()) {
      return null;
    }
    enrich.checkKeys(ENRICH_KEYS);
    String using = reference(enrich, "using", "enricher", enrichers);
    EnricherType<?> type = using == null ? null : enricherTypes.get(using);
    List<String> allowed = type == null ? LOOKUP_KEYS : type.lookupKeys();
    List<String> given = LOOKUP_KEYS.stream().filter(enrich::has).toList();
    for (String key : given) {
      if (!allowed.contains(key)) {
        enrich.problem(
            key,
            key
                + " is not for a "
                + type.name()
                + " enricher, which takes "
                + String.join(" or ", allowed));
      }
    }
    List<String> usable = given.stream().filter(allowed::contains).toList();
    EnrichPath path = null;
    if (usable.equals(List.of("path", "get"))) {
      enrich.problem("get", "give path or get, not both");
    } else if (usable.size() > 1) {
      enrich.problem(usable.get(1), "give one of " + String.join(", ", usable) + ", not several");
    } else if (given.isEmpty() && allowed.contains("path")) {
      enrich.problem(
          "path",
          "path is required: the API path to fetch, such as"
              + " /api/v2/analytics/conversations/{detail.eventBody.conversationId}/details");
    } else if (given.isEmpty()) {
      enrich.problem(
          "query",
          "query is required: the SOQL query to run, such as"
              + " SELECT Id, Name FROM Contact WHERE Phone = {phone} LIMIT 1");
    } else if (usable.equals(List.of("query"))) {
      path = readQuery(enrich);
    } else if (usable.size() == 1) {
      path = readPath(enrich, usable.get(0), apiUrls.get(using));
    }
    String as = enrich.required("as");
    if (as != null && !IDENTIFIER.matcher(as).matches()) {
      enrich.problem(
          "as", "bad as \"" + as + "\": expected a name such as details (used as $details)");
    } else if (as != null && RESERVED_BINDINGS.contains(as)) {
      enrich.problem(
          "as", "as \"" + as + "\" would hide the built-in $" + as + "; choose another name");
    }
    return new Enrich(using, path, as);
  }

  /**
   * The enrichment's path; a URL to another host than the enricher's API is refused: the lookup
   * carries the enricher's token.
   */
  private static EnrichPath readPath(YamlNodeReader enrich, String key, String apiUrl) {
    String text = enrich.required(key);
    if (text == null) {
      return null;
    }
    EnrichPath path;
    try {
      path = key.equals("path") ? EnrichPath.template(text) : EnrichPath.concatenation(text);
    } catch (IllegalArgumentException e) {
      enrich.problem(key, e.getMessage());
      return null;
    }
    if (path.origin() == null || apiUrl == null) {
      return path;
    }
    if (!path.isUnder(apiUrl)) {
      enrich.problem(
          key,
          path.origin()
              + " is not the enricher's API ("
              + apiUrl
              + "): an enrichment may only call its own enricher's API, which gets its token;"
              + " write the path from /");
      return null;
    }
    return path.relativeTo(apiUrl);
  }

  /** A {@code query:}: SOQL whose placeholders are bound as literals (docs/enrichment.md). */
  private static EnrichPath readQuery(YamlNodeReader enrich) {
    String text = enrich.required("query");
    if (text == null) {
      return null;
    }
    try {
      return EnrichPath.query(text);
    } catch (IllegalArgumentException e) {
      enrich.problem("query", e.getMessage());
      return null;
    }
  }

  /** A required name that must be declared under {@code declared}. */
  private static String reference(
      YamlNodeReader node, String key, String noun, Set<String> declared) {
    String name = node.required(key);
    if (name == null || declared.contains(name)) {
      return name;
    }
    String hint = DidYouMean.hint(name, declared);
    if (hint.isEmpty()) {
      hint =
          declared.isEmpty()
              ? "; none is configured"
              : "; configured: " + String.join(", ", declared);
    }
    node.problem(key, "unknown " + noun + " \"" + name + "\"" + hint);
    return name;
  }
}
