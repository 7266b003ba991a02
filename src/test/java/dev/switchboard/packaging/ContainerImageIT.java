package dev.switchboard.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.ChildGateway;
import dev.switchboard.testing.FakeDestination;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image, as an operator runs it: built from the server tarball with {@code
 * packaging/container/Containerfile} on a base made from Debian packages (no registry is reached),
 * started by podman with a mounted configuration and a data volume, serving a signed event that is
 * delivered to a receiver on the host, stopped with SIGTERM, and started again on the same volume
 * with the event still there. Skipped, saying why, where podman cannot run containers.
 */
@Timeout(600)
class ContainerImageIT {
  static final String SECRET = "container-secret";
  static final String BASE = "localhost/switchboard-base:bookworm";
  static final String IMAGE = "localhost/switchboard:it";

  /** How podman runs here: as root, without systemd or a container network (docs/deployment.md). */
  static final List<String> PODMAN =
      List.of("podman", "--runtime", "runc", "--cgroup-manager=cgroupfs", "--storage-driver=vfs");

  static final List<String> LIMITS =
      List.of("--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096");

  @TempDir static Path dir;
  static String whyNot;

  @BeforeAll
  static void buildImage() throws Exception {
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
                IMAGE,
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
  static void removeImage() throws Exception {
    if (whyNot == null) {
      run(podman("rmi", "-f", IMAGE)); // the base stays: the next run reuses it
    }
  }

  @Test
  void theImageDeliversAStoredEventStopsOnSigtermAndKeepsItsStoreOnTheVolume() throws Exception {
    assumeTrue(whyNot == null, whyNot);
    try (FakeDestination receiver = new FakeDestination();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      int port = ChildGateway.freePort();
      Path conf = Files.createDirectory(dir.resolve("conf"));
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
      // the image's user (uid 10001) owns what it writes on the volume
      Path data = Files.createDirectory(dir.resolve("data"));
      Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxrwxrwx"));

      start("sb-first", conf, data);
      awaitReady(client, port, "sb-first");
      byte[] body =
          "{\"interactionId\":\"ctr-1\",\"timestamp\":\"2026-10-27T14:30:00Z\"}"
              .getBytes(StandardCharsets.UTF_8);
      HttpResponse<String> accepted =
          ChildGateway.postSigned(client, port, "dispositions", SECRET, body);
      assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
      assertThat(accepted.body()).contains("\"status\":\"accepted\"");
      await().atMost(Duration.ofSeconds(30)).until(() -> receiver.requests().size() == 1);
      assertThat(receiver.requests().get(0).bodyText()).contains("ctr-1");

      long stopping = System.nanoTime();
      Result stop = run(podman("stop", "-t", "30", "sb-first"));
      assertThat(stop.exit()).as(stop.output()).isZero();
      assertThat(Duration.ofNanos(System.nanoTime() - stopping))
          .as("stopped on SIGTERM, not killed at the end of the grace")
          .isLessThan(Duration.ofSeconds(20));
      Result exit = run(podman("inspect", "sb-first", "--format", "{{.State.ExitCode}}"));
      assertThat(exit.output().trim()).as("exit code after SIGTERM").isIn("0", "143");
      assertThat(run(podman("logs", "sb-first")).output()).contains("switchboard stopped");
      assertThat(data.resolve("switchboard.db")).isRegularFile();

      start("sb-second", conf, data);
      awaitReady(client, port, "sb-second");
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
      run(podman("rm", "-f", "sb-first", "sb-second"));
    }
  }

  static void start(String name, Path conf, Path data) throws Exception {
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
                data + ":/data",
                IMAGE));
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

  record Result(int exit, String output) {}

  static Result run(List<String> command) throws IOException, InterruptedException {
    Path out = Files.createTempFile(dir, "cmd", ".out");
    Process p;
    try {
      p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
    } catch (IOException notFound) {
      return new Result(127, notFound.getMessage());
    }
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Result(124, "timed out: " + String.join(" ", command));
    }
    return new Result(p.exitValue(), Files.readString(out));
  }

  static String tail(String output) {
    return output.length() <= 2_000 ? output : output.substring(output.length() - 2_000);
  }
}
