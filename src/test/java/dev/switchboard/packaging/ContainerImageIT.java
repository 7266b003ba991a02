package dev.switchboard.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.packaging.Commands.Result;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.EmbeddedPostgres;
import dev.switchboard.testing.FakeDestination;
import dev.switchboard.testing.Hmac;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.Yaml;

/**
 * The container image, as an operator runs it, in both of its forms: the OCI archive Maven writes
 * with Jib ({@code ./mvnw -Pimage package}, no container engine), loaded with {@code podman load};
 * and {@code packaging/container/Containerfile} built by podman from the server tarball. Both on a
 * base made from Debian packages (no registry is reached), started by podman with a mounted
 * configuration and a fresh named volume on {@code /data}, serving a signed event that is delivered
 * to a receiver on the host, stopped with SIGTERM, and started again on the same volume with the
 * event still there. Skipped, saying why, where podman cannot run containers.
 */
@Timeout(900)
class ContainerImageIT {
  static final String SECRET = "container-secret";
  static final String BASE = "localhost/switchboard-base:bookworm";
  static final String JIB_IMAGE = "localhost/switchboard:it-jib";
  static final String CONTAINERFILE_IMAGE = "localhost/switchboard:it-containerfile";

  /** How podman runs here: as root, without systemd or a container network (docs/deployment.md). */
  static final List<String> PODMAN =
      List.of("podman", "--runtime", "runc", "--cgroup-manager=cgroupfs", "--storage-driver=vfs");

  static final List<String> LIMITS =
      List.of("--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096");

  @TempDir static Path dir;
  static String whyNot;

  @BeforeAll
  static void buildImages() throws Exception {
    if (Boolean.getBoolean("switchboard.tarball.skip")) {
      whyNot = "the tarball was not built (-Dswitchboard.tarball.skip=true)";
      return;
    }
    if (run(List.of("podman", "--version")).exit() != 0) {
      whyNot = "podman is not installed (.ci/run installs it)";
      return;
    }
    if (run(podman("image", "exists", BASE)).exit() != 0) {
      String problem = importDebianBase();
      if (problem != null) {
        whyNot = problem;
        return;
      }
    }
    Result probe = run(podman("run", "--rm", "--network=host", LIMITS, BASE, "true"));
    if (probe.exit() != 0) {
      whyNot = "podman cannot run a container here: " + probe.output();
      return;
    }
    buildWithJib();
    buildWithContainerfile();
  }

  /**
   * The image as Maven writes it: {@code ./mvnw -Pimage jib:buildTar} (what {@code -Pimage package}
   * runs after the tarball), with the base from a {@code docker save} archive of the Debian base
   * instead of a registry; then {@code podman load}.
   */
  static void buildWithJib() throws Exception {
    Path base = dir.resolve("base.tar");
    Result saved = run(podman("save", "--format", "docker-archive", "-o", base, BASE));
    assertThat(saved.exit()).as(saved.output()).isZero();
    Path archive = dir.resolve("switchboard-image.tar");
    Result built =
        run(
            List.of(
                Path.of("mvnw").toAbsolutePath().toString(),
                "-B",
                "-q",
                "-Pimage",
                "jib:buildTar",
                "-Dswitchboard.image.base=tar://" + base,
                "-Dswitchboard.image.name=" + JIB_IMAGE,
                "-Djib.outputPaths.tar=" + archive));
    assertThat(built.exit()).as(tail(built.output())).isZero();
    System.out.printf("image archive written by Jib: %,d bytes%n", Files.size(archive));
    Result loaded = run(podman("load", "-i", archive));
    assertThat(loaded.exit()).as(loaded.output()).isZero();
    assertThat(loaded.output()).contains(JIB_IMAGE);
  }

  static void buildWithContainerfile() throws Exception {
    Path tarball = Path.of(System.getProperty("switchboard.tarball"));
    String name = tarball.getFileName().toString();
    String version =
        name.substring("switchboard-".length(), name.length() - "-linux-x64.tar.gz".length());
    Path context = Files.createDirectory(dir.resolve("context"));
    Files.copy(tarball, context.resolve(name));
    Result build =
        run(
            podman(
                "build",
                "--network=host",
                LIMITS,
                "--build-arg",
                "BASE=" + BASE,
                "--build-arg",
                "VERSION=" + version,
                "-f",
                Path.of("packaging/container/Containerfile").toAbsolutePath().toString(),
                "-t",
                CONTAINERFILE_IMAGE,
                context.toString()));
    assertThat(build.exit()).as(build.output()).isZero();
  }

  /** A minimal Debian bookworm from its packages, imported as the base; null, or why it failed. */
  static String importDebianBase() throws Exception {
    if (run(List.of("debootstrap", "--version")).exit() != 0) {
      return "debootstrap is not installed (.ci/run installs it)";
    }
    Path rootfs = dir.resolve("rootfs");
    Result bootstrap =
        run(
            List.of(
                "debootstrap",
                "--variant=minbase",
                "bookworm",
                rootfs.toString(),
                "http://deb.debian.org/debian"));
    if (bootstrap.exit() != 0) {
      return "could not build a Debian base with debootstrap: " + tail(bootstrap.output());
    }
    Result imported =
        run(
            List.of(
                "sh",
                "-c",
                "tar -C '"
                    + rootfs
                    + "' -c . | "
                    + String.join(" ", PODMAN)
                    + " import - "
                    + BASE));
    return imported.exit() == 0 ? null : "podman import failed: " + tail(imported.output());
  }

  @AfterAll
  static void removeImages() throws Exception {
    if (whyNot == null) {
      // the base stays: the next run reuses it
      run(podman("rmi", "-f", JIB_IMAGE, CONTAINERFILE_IMAGE));
    }
  }

  /** The JVM takes the AOT cache made for the image's runtime and jar (docs/adr/0012). */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {JIB_IMAGE, CONTAINERFILE_IMAGE})
  void theImageStartsWithTheAotCacheMadeForIt(String image) throws Exception {
    assumeTrue(whyNot == null, whyNot);
    Result version =
        run(
            podman(
                "run",
                "--rm",
                "--network=host",
                LIMITS,
                "-e",
                "JAVA_OPTS=-XX:+UseSerialGC -Xmx192m -Xlog:aot",
                image,
                "--version"));
    assertThat(version.exit()).as(version.output()).isZero();
    assertThat(version.output()).contains("Using AOT-linked classes: true");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {JIB_IMAGE, CONTAINERFILE_IMAGE})
  void theImageDeliversAStoredEventStopsOnSigtermAndKeepsItsStoreOnTheVolume(String image)
      throws Exception {
    assumeTrue(whyNot == null, whyNot);
    String tag = image.substring(image.lastIndexOf(':') + 1);
    String first = "sb-first-" + tag;
    String second = "sb-second-" + tag;
    String volume = "sb-data-" + tag;
    try (FakeDestination receiver = new FakeDestination();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      Result inspected =
          run(
              podman(
                  "image",
                  "inspect",
                  image,
                  "--format",
                  "{{.Config.User}}|{{json .Config.Env}}|{{.Size}}"));
      assertThat(inspected.exit()).as(inspected.output()).isZero();
      String[] config = inspected.output().trim().split("\\|");
      assertThat(config[0]).as("runs as a non-root user").startsWith("10001");
      assertThat(config[1]).as("no secret in the image").doesNotContain(SECRET, "SECRET");
      System.out.printf("image %s: %,d bytes%n", image, Long.parseLong(config[2]));

      int port = ChildGateway.freePort();
      Path conf = Files.createDirectory(dir.resolve("conf-" + tag));
      Files.writeString(
          conf.resolve("switchboard.yaml"),
          """
          server: { host: 127.0.0.1, port: %d }
          store: { path: /data/switchboard.db }
          sources:
            dispositions:
              verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["${SECRET}"] }
              idempotency: { key: "interactionId & '|' & timestamp" }
          routes:
            to-crm: { from: dispositions, to: crm }
          destinations:
            crm: { type: http, url: "%s" }
          """
              .formatted(port, receiver.uri("/in")));
      // a fresh named volume starts as a copy of the image's /data: the user 10001 must be able
      // to write its store there
      run(podman("volume", "rm", "-f", volume));

      start(image, first, conf, volume);
      awaitReady(client, port, first);
      byte[] body =
          "{\"interactionId\":\"ctr-1\",\"timestamp\":\"2026-10-27T14:30:00Z\"}"
              .getBytes(StandardCharsets.UTF_8);
      HttpResponse<String> accepted =
          ChildGateway.postSigned(client, port, "dispositions", SECRET, body);
      assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
      assertThat(accepted.body()).contains("\"status\":\"accepted\"");
      await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().size() == 1);
      assertThat(receiver.requests().get(0).bodyText()).contains("ctr-1");

      // a backup taken in the running container, as docs/deployment.md says to
      Result backup =
          run(
              podman(
                  "exec",
                  first,
                  "/opt/switchboard/bin/switchboard",
                  "backup",
                  "--store",
                  "/data/switchboard.db",
                  "--to",
                  "/data/backup.db"));
      assertThat(backup.exit()).as(backup.output()).isZero();
      assertThat(backup.output()).contains("1 events, 1 deliveries");

      long stopping = System.nanoTime();
      Result stop = run(podman("stop", "-t", "30", first));
      assertThat(stop.exit()).as(stop.output()).isZero();
      assertThat(Duration.ofNanos(System.nanoTime() - stopping))
          .as("stopped on SIGTERM, not killed at the end of the grace")
          .isLessThan(Duration.ofSeconds(20));
      Result exit = run(podman("inspect", first, "--format", "{{.State.ExitCode}}"));
      assertThat(exit.output().trim()).as("exit code after SIGTERM").isIn("0", "143");
      assertThat(run(podman("logs", first)).output()).contains("switchboard stopped");
      Result mountpoint = run(podman("volume", "inspect", volume, "--format", "{{.Mountpoint}}"));
      assertThat(Path.of(mountpoint.output().trim()).resolve("switchboard.db")).isRegularFile();

      start(image, second, conf, volume);
      awaitReady(client, port, second);
      HttpResponse<String> again =
          ChildGateway.postSigned(client, port, "dispositions", SECRET, body);
      assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
      assertThat(again.body())
          .as("the event stored by the first container is on the volume")
          .contains("\"status\":\"duplicate\"")
          .contains(eventIdOf(accepted.body()));
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(5))
          .until(() -> receiver.requests().size() == 1);
    } finally {
      run(podman("rm", "-f", first, second));
      run(podman("volume", "rm", "-f", volume));
    }
  }

  /**
   * The demo compose file's service (packaging/compose/compose.yaml) on the Maven-written image:
   * its command serves the demo on 0.0.0.0, its health check (bash asking /readyz, the image has no
   * curl) passes inside the container, and the emulator's events reach the fake destinations.
   */
  @Test
  void theDemoComposeServiceRunsOnTheImageAndItsHealthCheckPasses() throws Exception {
    assumeTrue(whyNot == null, whyNot);
    Map<String, Object> compose;
    try (var in = Files.newInputStream(Path.of("packaging/compose/compose.yaml"))) {
      compose = new Yaml().load(in);
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> service =
        (Map<String, Object>) ((Map<String, Object>) compose.get("services")).get("switchboard");
    int port = ChildGateway.freePort();
    List<String> command = withPort(service.get("command"), port);
    assertThat(command).startsWith("demo").contains("0.0.0.0");
    @SuppressWarnings("unchecked")
    List<String> check =
        withPort(((Map<String, Object>) service.get("healthcheck")).get("test"), port);
    assertThat(check.get(0)).isEqualTo("CMD");
    String name = "sb-demo";
    try (HttpClient client =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      Result started =
          run(podman("run", "-d", "--name", name, "--network=host", LIMITS, JIB_IMAGE, command));
      assertThat(started.exit()).as(started.output()).isZero();
      awaitReady(client, port, name);
      Result healthy = run(podman("exec", name, check.subList(1, check.size())));
      assertThat(healthy.exit()).as("the compose health check: " + healthy.output()).isZero();
      assertThat(run(podman("logs", name)).output()).contains("Switchboard demo", "token:");
      await().atMost(Duration.ofSeconds(60)).until(() -> deliveredPerMetrics(client, port) >= 10);
      run(podman("stop", "-t", "30", name));
      Result down = run(podman("exec", name, check.subList(1, check.size())));
      assertThat(down.exit()).as("the health check fails once the gateway is gone").isNotZero();
    } finally {
      run(podman("rm", "-f", name));
    }
  }

  /**
   * The cluster compose file's node (packaging/compose/cluster) on the Maven-written image: two
   * containers with its configuration and its secrets as files mounted under /run/secrets (as
   * compose mounts them, written by packaging/make-secrets.sh), on one PostgreSQL; an event posted
   * to both is stored once and delivered once, and the admin token from its file is the one asked.
   */
  @Test
  void twoClusterNodesRunOnTheImageWithTheirSecretsFromFiles() throws Exception {
    assumeTrue(whyNot == null, whyNot);
    Path secrets = dir.resolve("cluster-secrets");
    Result made = run(List.of("sh", "packaging/make-secrets.sh", secrets.toString()));
    assertThat(made.exit()).as(made.output()).isZero();
    String pgPassword = Files.readString(secrets.resolve("postgres_password"));
    String hookSecret = Files.readString(secrets.resolve("hook_secret"));
    String adminToken = Files.readString(secrets.resolve("admin_token"));
    int[] ports = {ChildGateway.freePort(), ChildGateway.freePort()};
    List<String> names = List.of("sb-node-a", "sb-node-b");
    try (EmbeddedPostgres pg = EmbeddedPostgres.start();
        FakeDestination receiver = new FakeDestination();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      pg.execute(
          "postgres",
          "CREATE ROLE switchboard LOGIN PASSWORD '" + pgPassword + "'",
          "CREATE DATABASE switchboard OWNER switchboard");
      String config =
          Files.readString(Path.of("packaging/compose/cluster/switchboard.yaml"))
              .replace("//postgres:5432/", "//127.0.0.1:" + pg.port() + "/");
      for (int i = 0; i < 2; i++) {
        Path conf = Files.createDirectory(dir.resolve("cluster-conf-" + i));
        Files.writeString(
            conf.resolve("switchboard.yaml"), config.replace("port: 8080", "port: " + ports[i]));
        List<String> mounts = new ArrayList<>(List.of("-v", conf + ":/etc/switchboard:ro"));
        for (String secret : List.of("postgres_password", "admin_token", "hook_secret")) {
          mounts.addAll(List.of("-v", secrets.resolve(secret) + ":/run/secrets/" + secret + ":ro"));
        }
        Result started =
            run(
                podman(
                    "run",
                    "-d",
                    "--name",
                    names.get(i),
                    "--network=host",
                    LIMITS,
                    "-e",
                    "DESTINATION_URL=" + receiver.uri("/in"),
                    mounts,
                    JIB_IMAGE));
        assertThat(started.exit()).as(started.output()).isZero();
      }
      for (int i = 0; i < 2; i++) {
        awaitReady(client, ports[i], names.get(i));
      }
      byte[] body =
          "{\"interactionId\":\"ctr-9\",\"timestamp\":\"2026-10-27T14:30:00Z\"}"
              .getBytes(StandardCharsets.UTF_8);
      List<String> eventIds = new ArrayList<>();
      for (int port : ports) {
        HttpResponse<String> answer =
            client.send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/hooks/dispositions"))
                    .header("Content-Type", "application/json")
                    .header("X-Signature", Hmac.sha256Hex(hookSecret, body))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as(answer.body()).isIn(200, 202);
        eventIds.add(eventIdOf(answer.body()));
      }
      assertThat(eventIds.get(1)).as("stored once across the nodes").isEqualTo(eventIds.get(0));
      await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().size() == 1);
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(5))
          .until(() -> receiver.requests().size() == 1);
      for (String token : List.of(adminToken, "not-" + adminToken)) {
        HttpResponse<String> admin =
            client.send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + ports[1] + "/api/v1/destinations"))
                    .header("Authorization", "Bearer " + token)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(admin.statusCode()).isEqualTo(token.equals(adminToken) ? 200 : 401);
      }
    } finally {
      run(podman("rm", "-f", names.get(0), names.get(1)));
    }
  }

  static List<String> withPort(Object list, int port) {
    return ((List<?>) list)
        .stream().map(a -> a.toString().replace("8080", Integer.toString(port))).toList();
  }

  /** Deliveries the gateway counts as delivered, over all destinations, from /metrics. */
  static double deliveredPerMetrics(HttpClient client, int port) throws Exception {
    HttpResponse<String> metrics =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
    return metrics
        .body()
        .lines()
        .filter(
            l ->
                l.startsWith("switchboard_deliveries_total{")
                    && l.contains("outcome=\"delivered\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  static void start(String image, String name, Path conf, String volume) throws Exception {
    Result started =
        run(
            podman(
                "run",
                "-d",
                "--name",
                name,
                "--network=host",
                LIMITS,
                "-e",
                "SECRET=" + SECRET,
                "-v",
                conf + ":/etc/switchboard:ro",
                "-v",
                volume + ":/data",
                image));
    assertThat(started.exit()).as(started.output()).isZero();
  }

  /** Waits for {@code /readyz} 200; fails with the container's log if it does not come. */
  static void awaitReady(HttpClient client, int port, String name) throws Exception {
    try {
      ChildGateway.awaitReady(client, port);
    } catch (RuntimeException e) {
      throw new AssertionError(
          "container " + name + " not ready; its log:\n" + run(podman("logs", name)).output(), e);
    }
  }

  static String eventIdOf(String json) throws IOException {
    return new ObjectMapper().readTree(json).path("eventId").asText();
  }

  static List<String> podman(Object... args) {
    List<String> command = new ArrayList<>(PODMAN);
    for (Object arg : args) {
      if (arg instanceof List<?> list) {
        list.forEach(a -> command.add(a.toString()));
      } else {
        command.add(arg.toString());
      }
    }
    return command;
  }

  static Result run(List<String> command) throws IOException, InterruptedException {
    return Commands.run(dir, command, 300);
  }

  static String tail(String output) {
    return output.length() <= 2_000 ? output : output.substring(output.length() - 2_000);
  }
}
