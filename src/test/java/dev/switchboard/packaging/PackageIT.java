package dev.switchboard.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.switchboard.testing.ChildGateway;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server tarball, as an operator gets it: unpacked with the system {@code tar}, run through a
 * symlink to its launcher with no JDK in sight (no JAVA_HOME, a PATH with no java), serving a
 * signed event on SQLite, and stopped with SIGTERM.
 */
@Timeout(180)
class PackageIT {
  static final String SECRET = "package-secret";

  @TempDir static Path dir;
  static Path home; // the unpacked switchboard-<version>/
  static String version;
  static final boolean SKIPPED = Boolean.getBoolean("switchboard.tarball.skip");

  @BeforeAll
  static void unpack() throws Exception {
    if (SKIPPED) {
      return;
    }
    Path tarball =
        Path.of(
            System.getProperty(
                "switchboard.tarball", "target/switchboard-dev-linux-x64.tar.gz")); // failsafe
    assertThat(tarball).as("the tarball (package builds it)").isRegularFile();
    String name = tarball.getFileName().toString();
    version = name.substring("switchboard-".length(), name.length() - "-linux-x64.tar.gz".length());

    Path unpacked = Files.createDirectory(dir.resolve("opt"));
    Result tar = run(List.of("tar", "-xzf", tarball.toString(), "-C", unpacked.toString()));
    assertThat(tar.exit()).as(tar.output()).isZero();
    try (Stream<Path> top = Files.list(unpacked)) {
      assertThat(top.map(p -> p.getFileName().toString()))
          .as("one top folder")
          .containsExactly("switchboard-" + version);
    }
    home = unpacked.resolve("switchboard-" + version);
  }

  @BeforeEach
  void tarballWasBuilt() {
    assumeFalse(SKIPPED, "the tarball was not built (-Dswitchboard.tarball.skip=true)");
  }

  @Test
  void tarballHoldsTheLauncherJarRuntimeExamplesUnitAndDocsWithTheirModes() throws IOException {
    for (String file :
        List.of(
            "lib/switchboard.jar",
            "systemd/switchboard.service",
            "README.md",
            "CHANGELOG.md",
            "INSTALL.md")) {
      assertThat(home.resolve(file)).isRegularFile();
    }
    for (String executable :
        List.of("bin/switchboard", "runtime/bin/java", "runtime/lib/jspawnhelper")) {
      assertThat(Files.getPosixFilePermissions(home.resolve(executable)))
          .as(executable)
          .contains(
              PosixFilePermission.OWNER_EXECUTE,
              PosixFilePermission.GROUP_EXECUTE,
              PosixFilePermission.OTHERS_EXECUTE);
    }
    assertThat(Files.getPosixFilePermissions(home.resolve("lib/switchboard.jar")))
        .doesNotContain(PosixFilePermission.OWNER_EXECUTE)
        .contains(PosixFilePermission.OTHERS_READ);
    try (Stream<Path> examples = Files.list(Path.of("examples"));
        Stream<Path> packed = Files.list(home.resolve("examples"))) {
      assertThat(packed.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrderElementsOf(
              examples
                  .map(p -> p.getFileName().toString())
                  .filter(n -> n.endsWith(".yaml"))
                  .toList());
    }
    assertThat(home.resolve("runtime/jmods")).doesNotExist();
    assertThat(home.resolve("runtime/include")).doesNotExist(); // --no-header-files
  }

  @Test
  void runtimeHasTheModulesTheGatewayNeedsAndMakesEcKeys() throws Exception {
    Result modules = run(List.of(home.resolve("runtime/bin/java").toString(), "--list-modules"));
    assertThat(modules.exit()).as(modules.output()).isZero();
    List<String> names =
        modules.output().lines().map(l -> l.replaceAll("@.*", "").strip()).toList();
    assertThat(names)
        .contains(
            "java.base",
            "java.sql", // JDBC: SQLite, PostgreSQL, HikariCP
            "java.net.http",
            "java.naming", // logback, PostgreSQL
            "java.management",
            "jdk.unsupported", // sun.misc.Signal (SIGHUP reload), sun.misc.Unsafe users
            "jdk.crypto.ec",
            "java.security.sasl", // Kafka SASL
            "jdk.security.auth",
            "jdk.charsets",
            "jdk.zipfs")
        .doesNotContain("jdk.localedata", "jdk.jlink", "jdk.compiler");

    // an EC key pair and self-signed certificate, as an HTTPS listener's PEM files would hold
    Result ec =
        run(
            List.of(
                home.resolve("runtime/bin/keytool").toString(),
                "-genkeypair",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-alias",
                "tls",
                "-dname",
                "CN=localhost",
                "-keystore",
                dir.resolve("ec.p12").toString(),
                "-storepass",
                "changeit"));
    assertThat(ec.exit()).as(ec.output()).isZero();
    assertThat(dir.resolve("ec.p12")).isNotEmptyFile();
  }

  @Test
  void launcherThroughASymlinkRunsTheBundledRuntimeWithoutAnyJdk() throws Exception {
    Path link = linkedLauncher();
    Result result = run(List.of(link.toString(), "--version"), noJdkEnvironment());
    assertThat(result.exit()).as(result.output()).isZero();
    assertThat(result.output()).contains("switchboard " + version);

    Result help = run(List.of(link.toString(), "--help"), noJdkEnvironment());
    assertThat(help.exit()).as(help.output()).isZero();
    assertThat(help.output()).contains("serve", "validate");
  }

  @Test
  void theLauncherUsesTheAotCacheMadeForTheBundledRuntimeWhereverTheTarballIsUnpacked()
      throws Exception {
    assertThat(home.resolve("lib/switchboard.aot")).isNotEmptyFile();
    Map<String, String> env = noJdkEnvironment();
    // the launcher's own options, with the JVM's AOT log to see the cache taken
    env.put("JAVA_OPTS", "-XX:+UseSerialGC -Xmx192m -Xlog:aot");
    Result with = run(List.of(linkedLauncher().toString(), "--version"), env);
    assertThat(with.exit()).as(with.output()).isZero();
    assertThat(with.output()).contains("Using AOT-linked classes: true");

    env.put("SWITCHBOARD_AOT", "off");
    Result without = run(List.of(linkedLauncher().toString(), "--version"), env);
    assertThat(without.exit()).as(without.output()).isZero();
    assertThat(without.output())
        .contains("switchboard " + version)
        .doesNotContain("Using AOT-linked classes: true");
  }

  @Test
  void packagedGatewayServesASignedEventAndStopsOnSigterm() throws Exception {
    Path config = dir.resolve("serve.yaml");
    Path db = dir.resolve("store/switchboard.db");
    Files.createDirectories(db.getParent());
    Files.writeString(
        config,
        """
        server: { host: 127.0.0.1, port: "${PORT}" }
        store: { path: "%s" }
        sources:
          dispositions:
            verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["${SECRET}"] }
            idempotency: { key: "interactionId & '|' & timestamp" }
        routes:
          to-crm: { from: dispositions, to: crm }
        destinations:
          crm: { type: http, url: "http://127.0.0.1:9/unused" }
        """
            .formatted(db));
    int port = ChildGateway.freePort();
    Map<String, String> env = noJdkEnvironment();
    env.put("PORT", Integer.toString(port));
    env.put("SECRET", SECRET);
    Path log = dir.resolve("serve.log");
    ProcessBuilder pb =
        new ProcessBuilder(linkedLauncher().toString(), "serve", "--config", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().clear();
    pb.environment().putAll(env);
    Process child = pb.start();
    try (HttpClient client =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()) {
      awaitReady(client, port, child, log);
      // the launcher exec'd the bundled java: the process is the unpacked runtime's binary
      Path exe = Path.of("/proc/" + child.pid() + "/exe").toRealPath();
      assertThat(exe).isEqualTo(home.resolve("runtime/bin/java").toRealPath());

      byte[] body =
          "{\"interactionId\":\"pkg-1\",\"timestamp\":\"2026-10-27T14:30:00Z\"}"
              .getBytes(StandardCharsets.UTF_8);
      HttpResponse<String> accepted =
          ChildGateway.postSigned(client, port, "dispositions", SECRET, body);
      assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
      assertThat(accepted.body()).contains("\"status\":\"accepted\"");
      assertThat(db).isRegularFile();
    } finally {
      child.destroy(); // SIGTERM
      boolean exited = child.waitFor(60, TimeUnit.SECONDS);
      if (!exited) {
        child.destroyForcibly();
      }
      assertThat(exited).as("exited within 60 s of SIGTERM").isTrue();
    }
    // 143 = 128 + SIGTERM, what the JVM returns after its shutdown hooks ran; the unit lists it
    // in SuccessExitStatus. 0 if serve learns to exit by itself on SIGTERM.
    assertThat(child.exitValue()).as(Files.readString(log)).isIn(0, 143);
  }

  @Test
  void systemdAcceptsTheUnitWithItsPathsPointingIntoTheTarball() throws Exception {
    Path analyze = Path.of("/usr/bin/systemd-analyze");
    assumeTrue(Files.isExecutable(analyze), "systemd-analyze is not installed");
    Path unitDir = Files.createDirectories(dir.resolve("units"));
    Path unit = unitDir.resolve("switchboard.service");
    String text = Files.readString(home.resolve("systemd/switchboard.service"));
    assertThat(text).contains("ExecStart=/opt/switchboard/bin/switchboard serve");
    Files.writeString(unit, text.replace("/opt/switchboard/", home + "/"));
    Result verify = run(List.of(analyze.toString(), "verify", unit.toString()));
    assertThat(verify.exit()).as(verify.output()).isZero();
    assertThat(verify.output()).as("warnings from systemd-analyze verify").isBlank();
  }

  /** Waits for {@code /readyz} 200; fails at once, with the child's output, if it exits. */
  private static void awaitReady(HttpClient client, int port, Process child, Path log)
      throws IOException {
    HttpRequest ready =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
            .timeout(Duration.ofSeconds(2))
            .build();
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .failFast("the packaged gateway exited", () -> !child.isAlive())
          .ignoreExceptions()
          .until(
              () -> client.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    } catch (RuntimeException e) {
      throw new AssertionError("not ready; its output:\n" + Files.readString(log), e);
    }
  }

  /** {@code dir/links/switchboard -> sub/switchboard -> ../../opt/switchboard-v/bin/switchboard} */
  private static Path linkedLauncher() throws IOException {
    Path links = dir.resolve("links");
    Path link = links.resolve("switchboard");
    if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectories(links.resolve("sub"));
      Path target = home.resolve("bin/switchboard");
      Files.createSymbolicLink(
          links.resolve("sub/switchboard"), links.resolve("sub").relativize(target));
      Files.createSymbolicLink(link, Path.of("sub/switchboard"));
    }
    return link;
  }

  /** No JAVA_HOME, and a PATH holding only the tools the launcher uses (none of them java). */
  private static Map<String, String> noJdkEnvironment() throws IOException {
    Path tools = dir.resolve("path");
    if (!Files.isDirectory(tools)) {
      Files.createDirectories(tools);
      for (String tool : List.of("dirname", "readlink")) {
        Files.createSymbolicLink(tools.resolve(tool), which(tool));
      }
    }
    Map<String, String> env = new java.util.HashMap<>();
    env.put("PATH", tools.toString());
    return env;
  }

  private static Path which(String tool) {
    for (String d : List.of("/usr/bin", "/bin")) {
      Path p = Path.of(d, tool);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    throw new IllegalStateException(tool + " not found in /usr/bin or /bin");
  }

  record Result(int exit, String output) {}

  private static Result run(List<String> command) throws Exception {
    return run(command, null);
  }

  private static Result run(List<String> command, Map<String, String> env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    if (env != null) {
      pb.environment().clear();
      pb.environment().putAll(env);
    }
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("timed out: " + command);
    }
    return new Result(p.exitValue(), output);
  }
}
