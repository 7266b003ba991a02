package dev.switchboard.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.observability.GatewayMetrics;
import io.javalin.Javalin;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The committed OpenAPI document against the code, beyond the routes themselves (AdminApiIT
 * compares those with a running gateway): each operation's path and query parameters are the ones
 * its handler takes, every guarded operation documents 401, and the problem catalogue is the same.
 */
class OpenApiDocumentTest {
  static Map<String, Object> doc;
  static List<ApiRouter.Declared> declared;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void load() throws Exception {
    try (InputStream in = AdminRoutes.class.getResourceAsStream(AdminRoutes.OPENAPI_RESOURCE)) {
      doc = new Yaml().load(in);
    }
    // only registration runs here: the handlers, which would need a store, are never called
    SwitchboardConfig empty =
        new SwitchboardConfig(null, null, null, null, Map.of(), Map.of(), Map.of(), Map.of());
    AdminRoutes routes =
        new AdminRoutes("token", empty, null, null, new GatewayMetrics(), () -> {});
    Javalin.create(cfg -> routes.register(cfg.routes));
    declared = routes.declared();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  static Map<String, Object> operation(String method, String path) {
    Map<String, Object> operations = map(map(doc.get("paths")).get(path));
    assertThat(operations).as(path + " documented").isNotNull();
    Map<String, Object> op = map(operations.get(method.toLowerCase(Locale.ROOT)));
    assertThat(op).as(method + " " + path + " documented").isNotNull();
    return op;
  }

  /** The operation's parameters with $refs resolved, as "in:name". */
  @SuppressWarnings("unchecked")
  static Set<String> parameters(Map<String, Object> op) {
    Set<String> result = new TreeSet<>();
    for (Object p : (List<Object>) op.getOrDefault("parameters", List.of())) {
      Map<String, Object> param = map(p);
      Object ref = param.get("$ref");
      if (ref != null) {
        String name = ref.toString().substring("#/components/parameters/".length());
        param = map(map(map(doc.get("components")).get("parameters")).get(name));
        assertThat(param).as(ref.toString()).isNotNull();
      }
      result.add(param.get("in") + ":" + param.get("name"));
    }
    return result;
  }

  @Test
  void everyEndpointDocumentsExactlyTheParametersItTakes() {
    assertThat(declared).hasSizeGreaterThanOrEqualTo(16);
    Pattern pathParam = Pattern.compile("\\{([a-zA-Z]+)}");
    for (ApiRouter.Declared d : declared) {
      Set<String> documented = parameters(operation(d.method(), d.path()));
      Set<String> expected = new TreeSet<>();
      d.query().forEach(q -> expected.add("query:" + q));
      Matcher m = pathParam.matcher(d.path());
      while (m.find()) {
        expected.add("path:" + m.group(1));
      }
      Set<String> documentedExceptHeaders =
          documented.stream().filter(p -> !p.startsWith("header:")).collect(Collectors.toSet());
      assertThat(documentedExceptHeaders).as(d.method() + " " + d.path()).isEqualTo(expected);
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyGuardedOperationDocuments401AndASuccess() {
    Map<String, Object> paths = map(doc.get("paths"));
    paths.forEach(
        (path, operations) ->
            map(operations)
                .forEach(
                    (method, op) -> {
                      Map<String, Object> responses = map(map(op).get("responses"));
                      assertThat(responses.keySet())
                          .as(method + " " + path)
                          .containsAnyOf("200", "204");
                      boolean open = List.of().equals(map(op).get("security"));
                      if (open) {
                        assertThat(path).isEqualTo(AdminRoutes.OPENAPI_PATH);
                      } else {
                        assertThat(responses).as(method + " " + path).containsKey("401");
                      }
                    }));
  }

  @Test
  @SuppressWarnings("unchecked")
  void theProblemCatalogueIsTheDocumentedOne() {
    Map<String, Object> problem =
        map(map(map(doc.get("components")).get("schemas")).get("Problem"));
    List<String> documented =
        (List<String>) map(map(problem.get("properties")).get("type")).get("enum");
    assertThat(documented)
        .containsExactlyInAnyOrderElementsOf(
            Arrays.stream(Problem.values()).map(Problem::type).toList());
  }
}
