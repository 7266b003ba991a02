package dev.switchboard.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.packaging.Commands.Result;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1Namespace;
import io.kubernetes.client.openapi.models.V1PodDisruptionBudget;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1Service;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The deployment files as operators use them: the Kubernetes manifests rendered by kustomize and
 * checked against the Kubernetes API's own schemas (the models client-java generates from the API's
 * OpenAPI document, whose validators refuse unknown fields, missing required ones and wrong types),
 * and checked to hang together (selectors, probes, ports, the Secret's files, the configuration the
 * pods read); the compose files checked by Debian's docker-compose against the Compose
 * Specification and against each other (secrets, the load balancer's upstreams, the configuration
 * the nodes read). Each tool-dependent part skips, saying why, where its tool is missing ({@code
 * .ci/run} installs docker-compose; kubectl renders the kustomization).
 */
class DeploymentFilesIT {
  static final Path KUBERNETES = Path.of("packaging/kubernetes");
  static final Path COMPOSE = Path.of("packaging/compose");
  static final Path MAKE_SECRETS = Path.of("packaging/make-secrets.sh");
  static final Set<String> SECRET_FILES = Set.of("admin_token", "hook_secret", "postgres_password");
  static final Pattern FILE_SECRET = Pattern.compile("\\$\\{file:(/run/secrets/[^}]+)}");
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  // --- Kubernetes -------------------------------------------------------------------------------

  @Test
  void everyManifestTheKustomizationListsIsValidAgainstTheKubernetesApiSchemas() throws Exception {
    Map<String, Object> kustomization = yaml(KUBERNETES.resolve("kustomization.yaml"));
    List<String> resources = strings(kustomization.get("resources"));
    assertThat(resources)
        .contains("deployment.yaml", "service.yaml", "poddisruptionbudget.yaml", "namespace.yaml");
    List<String> kinds = new ArrayList<>();
    for (String resource : resources) {
      for (Map<String, Object> doc : yamlAll(KUBERNETES.resolve(resource))) {
        validate(doc);
        kinds.add((String) doc.get("kind"));
      }
    }
    assertThat(kinds)
        .containsExactlyInAnyOrder("Namespace", "Deployment", "Service", "PodDisruptionBudget");
  }

  @Test
  void theSchemaCheckRefusesWhatTheApiServerWouldRefuse() throws Exception {
    Map<String, Object> deployment = yaml(KUBERNETES.resolve("deployment.yaml"));
    validate(deployment); // as shipped

    Map<String, Object> misspelt = yaml(KUBERNETES.resolve("deployment.yaml"));
    Map<String, Object> container = firstContainer(misspelt);
    container.put("readinessProb", container.remove("readinessProbe"));
    assertThatThrownBy(() -> validate(misspelt)).hasMessageContaining("readinessProb");

    Map<String, Object> nameless = yaml(KUBERNETES.resolve("deployment.yaml"));
    firstContainer(nameless).remove("name");
    assertThatThrownBy(() -> validate(nameless)).hasMessageContaining("name");

    Map<String, Object> wrongType = yaml(KUBERNETES.resolve("deployment.yaml"));
    map(firstContainer(wrongType), "readinessProbe").put("httpGet", "/readyz");
    assertThatThrownBy(() -> validate(wrongType)).hasMessageContaining("\"/readyz\"");

    Map<String, Object> unknownKind = yaml(KUBERNETES.resolve("service.yaml"));
    unknownKind.put("kind", "Servce");
    assertThatThrownBy(() -> validate(unknownKind)).hasMessageContaining("Servce");
  }

  @Test
  void theRenderedKustomizationIsValidAndItsPartsHangTogether() throws Exception {
    Path copy = dir.resolve("kubernetes");
    copyTree(KUBERNETES, copy);
    Result secrets =
        run(List.of("sh", MAKE_SECRETS.toString(), copy.resolve("secrets").toString()));
    assertThat(secrets.exit()).as(secrets.output()).isZero();
    Result rendered = run(List.of("kubectl", "kustomize", copy.toString()));
    assumeTrue(
        rendered.exit() != 127,
        "kubectl is not installed: the kustomization is not rendered here (the manifests it"
            + " lists are still checked one by one)");
    assertThat(rendered.exit()).as(rendered.output()).isZero();

    Map<String, Map<String, Object>> byKind = new LinkedHashMap<>();
    for (Object o : new Yaml().loadAll(stdoutOnly(rendered.output()))) {
      @SuppressWarnings("unchecked")
      Map<String, Object> doc = (Map<String, Object>) o;
      validate(doc);
      Map<String, Object> metadata = map(doc, "metadata");
      assertThat(
              doc.get("kind").equals("Namespace")
                  ? metadata.get("name")
                  : metadata.get("namespace"))
          .as("in the kustomization's namespace: %s", doc.get("kind"))
          .isEqualTo("switchboard");
      byKind.put((String) doc.get("kind"), doc);
    }
    assertThat(byKind)
        .containsOnlyKeys(
            "Namespace", "ConfigMap", "Secret", "Service", "Deployment", "PodDisruptionBudget");

    Map<String, Object> deployment = byKind.get("Deployment");
    Map<String, Object> podTemplate = map(map(deployment, "spec"), "template");
    Map<String, Object> podLabels = map(map(podTemplate, "metadata"), "labels");
    Map<String, Object> selector = map(map(map(deployment, "spec"), "selector"), "matchLabels");
    assertThat(podLabels).containsAllEntriesOf(selector);
    assertThat(selector).containsKeys("app.kubernetes.io/name", "app.kubernetes.io/component");
    assertThat(map(map(byKind.get("Service"), "spec"), "selector")).isEqualTo(selector);
    assertThat(map(map(map(byKind.get("PodDisruptionBudget"), "spec"), "selector"), "matchLabels"))
        .isEqualTo(selector);
    assertThat(map(byKind.get("PodDisruptionBudget"), "spec").get("maxUnavailable"))
        .as("a drain takes one node at a time")
        .isEqualTo(1);

    Map<String, Object> podSpec = map(podTemplate, "spec");
    Map<String, Object> container = list(podSpec, "containers").get(0);
    assertThat(container.get("image")).isEqualTo("registry.example.com/switchboard:0.1.0-SNAPSHOT");
    assertThat(map(map(container, "readinessProbe"), "httpGet"))
        .containsEntry("path", "/readyz")
        .containsEntry("port", "http");
    assertThat(map(map(container, "livenessProbe"), "httpGet"))
        .containsEntry("path", "/healthz")
        .containsEntry("port", "http");
    Map<String, Object> port = list(container, "ports").get(0);
    assertThat(port).containsEntry("name", "http");
    assertThat(list(map(byKind.get("Service"), "spec"), "ports").get(0))
        .containsEntry("targetPort", "http");
    Map<String, Object> requests = map(map(container, "resources"), "requests");
    assertThat(requests).containsKeys("cpu", "memory");
    assertThat(map(podSpec, "securityContext"))
        .containsEntry("runAsNonRoot", true)
        .as("the image's user")
        .containsEntry("runAsUser", 10001);

    // the volumes name what kustomize generated (with its hash), and the Secret holds every file
    // the configuration reads
    Map<String, String> volumes = new LinkedHashMap<>();
    for (Map<String, Object> volume : list(podSpec, "volumes")) {
      if (volume.containsKey("configMap")) {
        volumes.put("configMap", (String) map(volume, "configMap").get("name"));
      } else if (volume.containsKey("secret")) {
        volumes.put("secret", (String) map(volume, "secret").get("secretName"));
      }
    }
    assertThat(volumes.get("configMap"))
        .isEqualTo(map(byKind.get("ConfigMap"), "metadata").get("name"));
    assertThat(volumes.get("secret")).isEqualTo(map(byKind.get("Secret"), "metadata").get("name"));
    assertThat(map(byKind.get("Secret"), "data").keySet()).isEqualTo(SECRET_FILES);
    String config = (String) map(byKind.get("ConfigMap"), "data").get("switchboard.yaml");
    SwitchboardConfig loaded = loadWithSecretsIn(config, copy.resolve("secrets"), Map.of());
    assertThat(loaded.server().port()).isEqualTo(port.get("containerPort"));
    assertThat(loaded.server().host()).isEqualTo("0.0.0.0");
    assertThat(loaded.store().type()).isEqualTo("postgres");
    Object grace = podSpec.get("terminationGracePeriodSeconds");
    assertThat(Duration.ofSeconds(((Number) grace).longValue()))
        .as("the pod's grace covers the preStop pause and the gateway's shutdown grace")
        .isGreaterThan(loaded.server().shutdownGrace().plusSeconds(5));

    // the optional ServiceMonitor (a CRD of the Prometheus Operator, not in the API's schemas)
    // selects the Service and names its port
    Map<String, Object> monitor = yaml(KUBERNETES.resolve("optional/servicemonitor.yaml"));
    assertThat(map(map(byKind.get("Service"), "metadata"), "labels"))
        .containsAllEntriesOf(map(map(map(monitor, "spec"), "selector"), "matchLabels"));
    assertThat(list(map(monitor, "spec"), "endpoints").get(0))
        .containsEntry("port", "http")
        .containsEntry("path", "/metrics");
  }

  // --- compose ----------------------------------------------------------------------------------

  @Test
  void theComposeFilesFollowTheComposeSpecification() throws Exception {
    Path cluster = dir.resolve("cluster");
    copyTree(COMPOSE.resolve("cluster"), cluster);
    run(List.of("sh", MAKE_SECRETS.toString(), cluster.resolve("secrets").toString()));
    for (Path file : List.of(COMPOSE.resolve("compose.yaml"), cluster.resolve("compose.yaml"))) {
      Result checked = run(List.of("docker-compose", "-f", file.toString(), "config", "-q"));
      assumeTrue(
          checked.exit() != 127,
          "docker-compose is not installed (.ci/run installs Debian's): the compose files are not"
              + " checked against the Compose Specification here");
      assertThat(checked.exit()).as(file + ": " + checked.output()).isZero();
    }
  }

  @Test
  void theClusterComposeFileHangsTogether() throws Exception {
    Path cluster = COMPOSE.resolve("cluster");
    Map<String, Object> compose = yaml(cluster.resolve("compose.yaml"));
    Map<String, Object> services = map(compose, "services");
    List<String> nodes =
        services.entrySet().stream()
            .filter(
                e -> String.valueOf(map(services, e.getKey()).get("image")).contains("switchboard"))
            .map(Map.Entry::getKey)
            .toList();
    assertThat(nodes).containsExactly("node1", "node2", "node3");

    // every secret is a file under secrets/, which make-secrets.sh writes and git ignores
    Map<String, Object> secrets = map(compose, "secrets");
    assertThat(secrets.keySet()).isEqualTo(SECRET_FILES);
    secrets.forEach(
        (name, spec) -> assertThat(((Map<?, ?>) spec).get("file")).isEqualTo("./secrets/" + name));
    assertThat(Files.readString(Path.of(".gitignore")))
        .contains("packaging/compose/cluster/secrets/");
    assertThat(map(map(services, "postgres"), "environment"))
        .containsEntry("POSTGRES_PASSWORD_FILE", "/run/secrets/postgres_password");

    // the configuration every node mounts loads, with the secret files compose mounts
    Path secretsDir = dir.resolve("secrets");
    run(List.of("sh", MAKE_SECRETS.toString(), secretsDir.toString()));
    Map<String, Object> node = map(services, "node1");
    assertThat(strings(node.get("volumes")))
        .containsExactly("./switchboard.yaml:/etc/switchboard/switchboard.yaml:ro");
    assertThat(strings(node.get("secrets"))).containsExactlyInAnyOrderElementsOf(SECRET_FILES);
    SwitchboardConfig loaded =
        loadWithSecretsIn(
            Files.readString(cluster.resolve("switchboard.yaml")),
            secretsDir,
            Map.of("DESTINATION_URL", "http://lb:9000/in"));
    assertThat(loaded.store().type()).isEqualTo("postgres");
    assertThat(loaded.store().url()).contains("//postgres:5432/");
    assertThat(Duration.parse("PT" + node.get("stop_grace_period").toString().toUpperCase()))
        .isGreaterThanOrEqualTo(loaded.server().shutdownGrace());
    assertThat(strings(map(node, "healthcheck").get("test")).toString()).contains("/readyz");

    // nginx balances over exactly those nodes, on their port, and listens where compose publishes
    String nginx = Files.readString(cluster.resolve("nginx.conf"));
    Set<String> upstreams = new TreeSet<>();
    Matcher server = Pattern.compile("server (node\\d+):(\\d+)").matcher(nginx);
    while (server.find()) {
      upstreams.add(server.group(1));
      assertThat(Integer.parseInt(server.group(2))).isEqualTo(loaded.server().port());
    }
    assertThat(upstreams).containsExactlyElementsOf(nodes);
    String published = strings(map(services, "lb").get("ports")).get(0);
    assertThat(nginx)
        .contains("listen " + published.substring(published.lastIndexOf(':') + 1) + ";");
  }

  @Test
  void makeSecretsWritesEachSecretOnceReadableByTheContainersUserInAClosedFolder()
      throws Exception {
    Path secrets = dir.resolve("s");
    Result first = run(List.of("sh", MAKE_SECRETS.toString(), secrets.toString()));
    assertThat(first.exit()).as(first.output()).isZero();
    Map<String, String> written = new LinkedHashMap<>();
    try (Stream<Path> files = Files.list(secrets)) {
      for (Path file : files.toList()) {
        written.put(file.getFileName().toString(), Files.readString(file));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
            .isEqualTo("rw-r--r--");
      }
    }
    assertThat(written.keySet()).isEqualTo(SECRET_FILES);
    assertThat(written.values()).allMatch(v -> v.matches("[0-9a-f]{48}")).doesNotHaveDuplicates();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(secrets)))
        .isEqualTo("rwx------");

    Result second = run(List.of("sh", MAKE_SECRETS.toString(), secrets.toString()));
    assertThat(second.exit()).isZero();
    for (var e : written.entrySet()) {
      assertThat(Files.readString(secrets.resolve(e.getKey()))).as("kept").isEqualTo(e.getValue());
    }
  }

  // --- helpers ----------------------------------------------------------------------------------

  /**
   * Checks one object against the API's schema for its kind: the validators client-java generates
   * from the Kubernetes OpenAPI document.
   */
  static void validate(Map<String, Object> doc) throws IOException {
    JsonElement json = JsonParser.parseString(JSON.writeValueAsString(doc));
    String type = doc.get("apiVersion") + " " + doc.get("kind");
    switch (type) {
      case "v1 Namespace" -> V1Namespace.validateJsonElement(json);
      case "v1 ConfigMap" -> V1ConfigMap.validateJsonElement(json);
      case "v1 Secret" -> V1Secret.validateJsonElement(json);
      case "v1 Service" -> V1Service.validateJsonElement(json);
      case "apps/v1 Deployment" -> V1Deployment.validateJsonElement(json);
      case "policy/v1 PodDisruptionBudget" -> V1PodDisruptionBudget.validateJsonElement(json);
      default -> throw new IllegalArgumentException("no Kubernetes API schema for " + type);
    }
  }

  /** Loads a configuration whose {@code ${file:/run/secrets/…}} files are in {@code secrets}. */
  static SwitchboardConfig loadWithSecretsIn(String yaml, Path secrets, Map<String, String> env)
      throws Exception {
    Matcher m = FILE_SECRET.matcher(yaml);
    Set<String> read = new TreeSet<>();
    StringBuilder rewritten = new StringBuilder();
    while (m.find()) {
      String name = Path.of(m.group(1)).getFileName().toString();
      read.add(name);
      m.appendReplacement(
          rewritten, Matcher.quoteReplacement("${file:" + secrets.resolve(name) + "}"));
    }
    m.appendTail(rewritten);
    assertThat(read).as("the secrets the configuration reads").isEqualTo(SECRET_FILES);
    Path file = Files.createTempFile(secrets.getParent(), "switchboard", ".yaml");
    Files.writeString(file, rewritten);
    return ConfigLoader.load(file, env);
  }

  static Map<String, Object> firstContainer(Map<String, Object> deployment) {
    return list(map(map(map(deployment, "spec"), "template"), "spec"), "containers").get(0);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Map<String, Object> parent, String key) {
    Object value = parent.get(key);
    assertThat(value).as(key).isInstanceOf(Map.class);
    return (Map<String, Object>) value;
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> list(Map<String, Object> parent, String key) {
    Object value = parent.get(key);
    assertThat(value).as(key).isInstanceOf(List.class);
    return (List<Map<String, Object>>) value;
  }

  static List<String> strings(Object value) {
    assertThat(value).isInstanceOf(List.class);
    return ((List<?>) value).stream().map(String::valueOf).toList();
  }

  static Map<String, Object> yaml(Path file) throws IOException {
    return yamlAll(file).get(0);
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> yamlAll(Path file) throws IOException {
    List<Map<String, Object>> docs = new ArrayList<>();
    for (Object doc : new Yaml().loadAll(Files.readString(file, StandardCharsets.UTF_8))) {
      if (doc != null) {
        docs.add((Map<String, Object>) doc);
      }
    }
    return docs;
  }

  static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : paths.toList()) {
        Path rel = from.relativize(p);
        if (rel.startsWith("secrets")) {
          continue; // a developer's own secrets stay where they are
        }
        Path target = to.resolve(rel.toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  /** kubectl's warnings (lines starting with "# Warning") go to stderr, merged here. */
  static String stdoutOnly(String output) {
    return output
        .lines()
        .filter(l -> !l.startsWith("# Warning"))
        .reduce("", (a, b) -> a + b + "\n");
  }

  Result run(List<String> command) throws IOException, InterruptedException {
    return Commands.run(dir, command, 120);
  }
}
