package dev.switchboard.config;

import dev.switchboard.config.ServerConfig.TlsConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Loads and validates one Switchboard YAML file.
 *
 * <p>Failure policy: nothing is half-loaded. Every problem in the file is collected — with its line
 * and dotted key path — and thrown together as one {@link ConfigException}, so {@code switchboard
 * validate} shows them all at once. Messages never contain a substituted value or a secret.
 *
 * <p>Substitution ({@code ${VAR}}, {@code ${VAR:-default}}, {@code ${file:path}}, <code>$${</code>
 * for a literal <code>${</code>) happens in every scalar before type conversion. Relative {@code
 * file:} and {@code schema} paths are relative to the configuration file's directory; the store's
 * {@code path} stays as written (relative to the working directory).
 */
public final class ConfigLoader {
  static final List<String> TOP_KEYS =
      List.of(
          "server",
          "store",
          "admin",
          "telemetry",
          "sources",
          "enrichers",
          "routes",
          "destinations",
          "alerts");
  static final List<String> SERVER_KEYS =
      List.of(
          "host",
          "port",
          "tls",
          "trusted_proxies",
          "shutdown_grace",
          "backlog_high_water",
          "ack_timeout",
          "request_timeout");
  static final List<String> TLS_KEYS = List.of("cert", "key");
  static final List<String> STORE_KEYS =
      List.of("type", "path", "url", "user", "password", "max_size", "retention", "pool_size");
  static final List<String> RETENTION_KEYS = List.of("delivered", "dead", "interval");
  static final List<String> ADMIN_KEYS = List.of("token");

  static final ServerConfig DEFAULT_SERVER =
      new ServerConfig(
          "0.0.0.0",
          8080,
          null,
          List.of(),
          Duration.ofSeconds(10),
          1_000_000,
          Duration.ofSeconds(5),
          Duration.ofSeconds(30));
  static final String DEFAULT_STORE_PATH = "data/switchboard.db";

  private ConfigLoader() {}

  /** Found once, on first use: every load checks the same connector types. */
  private static final class Installed {
    static final ConnectorCatalog CATALOG = ConnectorCatalog.installed();
  }

  /** Loads {@code file} with the process environment. */
  public static SwitchboardConfig load(Path file) throws ConfigException {
    return load(file, System.getenv());
  }

  /**
   * Loads {@code file}, taking {@code ${VAR}} values from {@code env}.
   *
   * @throws ConfigException with every problem found, in file order
   */
  public static SwitchboardConfig load(Path file, Map<String, String> env) throws ConfigException {
    Problems problems = new Problems(file.toString());
    Node rootNode = parse(file, problems);
    if (!problems.isEmpty()) {
      throw problems.exception();
    }
    Path baseDir = file.toAbsolutePath().normalize().getParent();
    YamlDocument doc = new YamlDocument(problems, new Substitutor(env, baseDir));
    YamlNodeReader root = YamlNodeReader.root(doc, rootNode);
    if (rootNode == null) {
      problems.add(0, "", "the file is empty; it needs at least a sources section");
    } else if (!(rootNode instanceof MappingNode)) {
      problems.add(
          YamlDocument.lineOf(rootNode),
          "",
          "the top level must be a mapping of sections ("
              + String.join(", ", TOP_KEYS)
              + "), found "
              + YamlDocument.kind(rootNode));
    }
    if (!problems.isEmpty()) {
      throw problems.exception();
    }
    SwitchboardConfig config = read(file, root, baseDir);
    if (!problems.isEmpty()) {
      throw problems.exception();
    }
    return config;
  }

  private static SwitchboardConfig read(Path file, YamlNodeReader root, Path baseDir) {
    root.checkKeys(TOP_KEYS);
    YamlNodeReader sourcesNode = root.mapping("sources");
    if (!root.has("sources")) {
      root.problem("sources", "sources is required: at least one source (POST /hooks/{name})");
    } else if (sourcesNode.present() && sourcesNode.entries().isEmpty()) {
      sourcesNode.problem("sources must declare at least one source");
    }
    YamlNodeReader enrichersNode = root.mapping("enrichers");
    YamlNodeReader destinationsNode = root.mapping("destinations");
    Map<String, SourceConfig> sources = new SourceSection(baseDir).read(sourcesNode);
    if (sourcesNode.entries().containsKey(OperationalSource.NAME)) {
      sourcesNode.problem(
          OperationalSource.NAME,
          "\"switchboard\" is the gateway's own source (its operational events,"
              + " docs/operational-events.md): route from it, and name your source otherwise");
    }
    Set<String> sourceNames = new LinkedHashSet<>(sourcesNode.entries().keySet());
    sourceNames.add(OperationalSource.NAME);
    EnricherSection enricherSection = new EnricherSection(Installed.CATALOG.enricherTypes());
    Map<String, EnricherConfig> enrichers = enricherSection.read(enrichersNode);
    Map<String, DestinationConfig> destinations =
        new DestinationSection(Installed.CATALOG.destinationTypes()).read(destinationsNode);
    YamlNodeReader routesNode = root.mapping("routes");
    Map<String, RouteConfig> routes =
        RouteSection.readRoutes(
            routesNode,
            sourceNames,
            destinationsNode.entries().keySet(),
            enrichersNode.entries().keySet(),
            enricherSection.apiUrls(),
            enricherSection.types());
    checkTemplateBindings(routesNode, routes, destinations);
    return new SwitchboardConfig(
        file.toAbsolutePath().normalize(),
        readServer(root.mapping("server"), baseDir),
        readStore(root.mapping("store")),
        readAdmin(root.mapping("admin")),
        ordered(sources),
        ordered(enrichers),
        ordered(routes),
        ordered(destinations),
        TelemetrySection.read(root.mapping("telemetry")),
        AlertsConfig.read(root.mapping("alerts")));
  }

  /**
   * A route's {@code method:} only on a destination that uses it; every {@code $variable} a
   * destination's templates read ({@link ConnectorSettings#templateVariables()}) must be a binding
   * each route to it gives: a built-in one or the route's enrichment result. Reported at the
   * route's {@code to}, where the two meet.
   */
  private static void checkTemplateBindings(
      YamlNodeReader routesNode,
      Map<String, RouteConfig> routes,
      Map<String, DestinationConfig> destinations) {
    routes.forEach(
        (name, route) -> {
          DestinationConfig destination = route.to() == null ? null : destinations.get(route.to());
          if (destination == null || destination.settings() == null) {
            return;
          }
          if (route.method() != null && !destination.settings().takesRouteMethod()) {
            routesNode
                .mapping(name)
                .problem(
                    "method",
                    "destination "
                        + route.to()
                        + " ("
                        + destination.type()
                        + ") does not take a route's method: only an http destination and a"
                        + " genesys-cloud request do");
          }
          Set<String> given = new TreeSet<>(RouteSection.RESERVED_BINDINGS);
          if (route.enrich() != null && route.enrich().as() != null) {
            given.add(route.enrich().as());
          }
          List<String> missing =
              destination.settings().templateVariables().stream()
                  .filter(variable -> !given.contains(variable))
                  .map(variable -> "$" + variable)
                  .toList();
          if (!missing.isEmpty()) {
            routesNode
                .mapping(name)
                .problem(
                    "to",
                    "destination "
                        + route.to()
                        + "'s templates read "
                        + String.join(", ", missing)
                        + ", which this route does not give: a placeholder may read $"
                        + String.join(", $", given)
                        + " (an enrichment's as names one more)");
          }
        });
  }

  /** The composed document, or null (and a problem) when the file cannot be read or parsed. */
  private static Node parse(Path file, Problems problems) {
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      Node root = new Yaml(new LoaderOptions()).compose(reader);
      YamlAliases.Problem aliases = YamlAliases.check(root);
      if (aliases == null) {
        return root;
      }
      problems.add(aliases.line(), "", aliases.message());
    } catch (NoSuchFileException e) {
      problems.add(0, "", "configuration file not found");
    } catch (MalformedInputException e) {
      problems.add(0, "", "the file is not UTF-8 text");
    } catch (IOException e) {
      problems.add(0, "", "cannot read the file: " + e);
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String context = e.getContext() == null ? "" : e.getContext() + ": ";
      problems.add(
          mark == null ? 0 : mark.getLine() + 1,
          "",
          "YAML syntax error: " + context + e.getProblem());
    } catch (YAMLException e) {
      problems.add(0, "", "YAML syntax error: " + e.getMessage());
    }
    return null;
  }

  private static ServerConfig readServer(YamlNodeReader server, Path baseDir) {
    ServerConfig d = DEFAULT_SERVER;
    server.checkKeys(SERVER_KEYS);
    YamlNodeReader tls = server.mapping("tls");
    tls.checkKeys(TLS_KEYS);
    TlsConfig tlsConfig = TlsSection.read(tls, baseDir);
    Duration requestTimeout = server.duration("request_timeout", d.requestTimeout());
    if (requestTimeout.isZero()) {
      server.problem("request_timeout", "request_timeout must be more than 0");
      requestTimeout = d.requestTimeout();
    }
    return new ServerConfig(
        server.string("host", d.host()),
        server.integer("port", d.port(), 0, 65535),
        tlsConfig,
        SourceSection.cidrs(server, "trusted_proxies"),
        server.duration("shutdown_grace", d.shutdownGrace()),
        server.number("backlog_high_water", d.backlogHighWater(), 1, Long.MAX_VALUE),
        server.duration("ack_timeout", d.ackTimeout()),
        requestTimeout);
  }

  private static StoreConfig readStore(YamlNodeReader store) {
    store.checkKeys(STORE_KEYS);
    String type = store.oneOf("type", "store type", List.of("sqlite", "postgres"), "sqlite");
    String path = store.string("path", DEFAULT_STORE_PATH);
    String url = store.string("url");
    if (type.equals("postgres") && !store.has("url")) {
      store.problem("url", "url is required for type postgres, e.g. jdbc:postgresql://host/db");
    } else if (type.equals("postgres") && url != null && !url.startsWith("jdbc:postgresql:")) {
      store.problem("url", "bad url: expected a JDBC URL starting with jdbc:postgresql:");
    }
    if (type.equals("sqlite") && (path == null || path.isBlank()) && store.has("path")) {
      store.problem("path", "path must name the SQLite file");
    }
    return new StoreConfig(
        type,
        path,
        url,
        store.string("user"),
        store.string("password"),
        store.sizeBytes("max_size", 0),
        readRetention(store.mapping("retention")),
        store.integer("pool_size", StoreConfig.DEFAULT_POOL_SIZE, 4, 100));
  }

  private static StoreConfig.Retention readRetention(YamlNodeReader retention) {
    retention.checkKeys(RETENTION_KEYS);
    StoreConfig.Retention d = StoreConfig.Retention.DEFAULT;
    return new StoreConfig.Retention(
        atLeast(retention, "delivered", d.delivered(), Duration.ofSeconds(1)),
        atLeast(retention, "dead", d.dead(), Duration.ofSeconds(1)),
        atLeast(retention, "interval", d.interval(), Duration.ofMillis(100)));
  }

  private static Duration atLeast(
      YamlNodeReader node, String key, Duration defaultValue, Duration min) {
    Duration value = node.duration(key, defaultValue);
    if (value.compareTo(min) < 0) {
      String shown = min.toMillis() < 1000 ? min.toMillis() + "ms" : min.toSeconds() + "s";
      node.problem(key, key + " must be at least " + shown);
      return defaultValue;
    }
    return value;
  }

  /** A blank token (e.g. {@code ${TOKEN:-}}) disables the admin API like an absent one. */
  private static AdminConfig readAdmin(YamlNodeReader admin) {
    admin.checkKeys(ADMIN_KEYS);
    String token = admin.string("token");
    return new AdminConfig(token == null || token.isBlank() ? null : token);
  }

  private static <V> Map<String, V> ordered(Map<String, V> map) {
    return Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}
