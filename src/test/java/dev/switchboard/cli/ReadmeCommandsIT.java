package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.ChildGateway;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's "your own configuration" commands, run as written in a copy of the repository's layout
 * (the launcher, {@code bin/}, {@code examples/}, {@code .env.example} and the packaged jar where
 * the launcher looks for it) with nothing else beside it.
 */
class ReadmeCommandsIT {
  private static final Pattern BASH_BLOCK = Pattern.compile("```bash\\n(.*?)```", Pattern.DOTALL);
  private static final Pattern EVENT_ID = Pattern.compile("\"eventId\":\"(evt_[^\"]+)\"");

  /** The variables README's commands must take from {@code .env.example}, not from the test. */
  private static final List<String> FROM_ENV_EXAMPLE =
      List.of(
          "SWITCHBOARD_ADMIN_TOKEN",
          "GENESYS_WEBHOOK_SECRET",
          "PE_WEBHOOK_SECRET",
          "SF_LOGIN_URL",
          "SF_CLIENT_ID",
          "SF_CLIENT_SECRET",
          "SLACK_WEBHOOK_URL",
          "CRM_WEBHOOK_URL",
          "DATA_DIR");

  @TempDir Path home;

  @AfterEach
  void unlinkTheJar() throws IOException {
    Files.deleteIfExists(home.resolve("target/switchboard.jar"));
  }

  record Run(int exit, String output) {}

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void readmesServeAndSendCommandsAcceptAnEventThenAnswerItsRepeatAsADuplicate() throws Exception {
    List<String> blocks = bashBlocks();
    String serve = only(blocks, "serve --config");
    String send = only(blocks, "send --url");
    assertThat(serve).contains("./switchboard serve --config examples/genesys-to-salesforce.yaml");
    assertThat(send).contains("http://127.0.0.1:8080/hooks/");
    layOutRepository();
    int port = freePort();

    Process gateway = bash(serve, port).redirectOutput(home.resolve("serve.log").toFile()).start();
    try {
      ChildGateway.awaitReady(HttpClient.newHttpClient(), port);

      Run first = run(send.replace("127.0.0.1:8080", "127.0.0.1:" + port), port);
      Run second = run(send.replace("127.0.0.1:8080", "127.0.0.1:" + port), port);

      assertThat(first.exit()).as(first.output()).isZero();
      assertThat(first.output()).startsWith("202\n").contains("\"status\":\"accepted\"");
      assertThat(second.exit()).as(second.output()).isZero();
      assertThat(second.output())
          .startsWith("200\n")
          .contains("\"status\":\"duplicate\"", "\"duplicate\":true");
      assertThat(eventId(second.output())).isEqualTo(eventId(first.output()));
      assertThat(home.resolve("data/switchboard.db"))
          .as("README: the store is data/switchboard.db")
          .exists();
    } finally {
      stop(gateway);
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void theLauncherPrintsACommandsUsageOnHelpAndExitsZero() throws Exception {
    layOutRepository();

    Run serveHelp = run("./switchboard serve --help", 0);
    Run helpSend = run("./switchboard help send", 0);

    assertThat(serveHelp.exit()).as(serveHelp.output()).isZero();
    assertThat(serveHelp.output())
        .contains("Usage: switchboard serve", "--config")
        .doesNotContain("Missing required option");
    assertThat(helpSend.exit()).as(helpSend.output()).isZero();
    assertThat(helpSend.output()).contains("Usage: switchboard send", "--url");
  }

  private static List<String> bashBlocks() throws IOException {
    Matcher m = BASH_BLOCK.matcher(Files.readString(Path.of("README.md")));
    List<String> blocks = new ArrayList<>();
    while (m.find()) {
      blocks.add(m.group(1));
    }
    return blocks;
  }

  private static String only(List<String> blocks, String text) {
    List<String> found = blocks.stream().filter(b -> b.contains(text)).toList();
    assertThat(found).as("README's ```bash blocks with " + text).hasSize(1);
    return found.get(0);
  }

  /** What a clone holds that the commands use; the jar where the launcher builds it. */
  private void layOutRepository() throws IOException {
    String jar = System.getProperty("switchboard.jar", "target/switchboard.jar");
    assertThat(Path.of(jar)).as("the packaged jar (failsafe runs after package)").exists();
    Files.createDirectories(home.resolve("bin"));
    Files.createDirectories(home.resolve("target"));
    Files.copy(Path.of("switchboard"), home.resolve("switchboard"));
    Files.copy(Path.of("bin/find-jdk.sh"), home.resolve("bin/find-jdk.sh"));
    Files.copy(Path.of("bin/java-options.sh"), home.resolve("bin/java-options.sh"));
    Files.copy(Path.of(".env.example"), home.resolve(".env.example"));
    try (var files = Files.walk(Path.of("examples"))) {
      for (Path from : files.toList()) {
        Files.copy(from, home.resolve(from.toString()));
      }
    }
    Files.createSymbolicLink(home.resolve("target/switchboard.jar"), Path.of(jar).toAbsolutePath());
  }

  private ProcessBuilder bash(String script, int port) {
    ProcessBuilder pb =
        new ProcessBuilder("bash", "-c", "set -e\n" + script)
            .directory(home.toFile())
            .redirectErrorStream(true);
    FROM_ENV_EXAMPLE.forEach(pb.environment()::remove);
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("SWITCHBOARD_JAVA_OPTS", "-Xmx256m");
    pb.environment().put("PORT", Integer.toString(port));
    return pb;
  }

  private Run run(String script, int port) throws Exception {
    Process p = bash(script, port).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("finished: " + script).isTrue();
    return new Run(p.exitValue(), output);
  }

  private static String eventId(String output) {
    Matcher m = EVENT_ID.matcher(output);
    assertThat(m.find()).as("an eventId in " + output).isTrue();
    return m.group(1);
  }

  /** The shell and the JVM the launcher exec'd in it. */
  private static void stop(Process shell) throws Exception {
    List<ProcessHandle> all = new ArrayList<>(shell.toHandle().descendants().toList());
    all.add(shell.toHandle());
    all.forEach(ProcessHandle::destroy);
    for (ProcessHandle p : all) {
      try {
        p.onExit().get(20, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        p.destroyForcibly();
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
