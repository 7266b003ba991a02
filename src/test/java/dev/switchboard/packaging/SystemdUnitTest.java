package dev.switchboard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The example unit in packaging/systemd/ names the tarball's layout and the paths INSTALL.md
 * creates; PackageIT has systemd-analyze check it against an unpacked tarball.
 */
class SystemdUnitTest {
  static final Path UNIT = Path.of("packaging/systemd/switchboard.service");

  @Test
  void serviceRunsTheInstalledLauncherAsItsOwnUserWithTheEnvFile() throws IOException {
    Map<String, List<String>> service = section("Service");
    assertThat(service.get("Type")).containsExactly("simple");
    assertThat(service.get("User")).containsExactly("switchboard");
    assertThat(service.get("EnvironmentFile")).containsExactly("/etc/switchboard/switchboard.env");
    assertThat(service.get("ExecStart"))
        .containsExactly(
            "/opt/switchboard/bin/switchboard serve --config /etc/switchboard/switchboard.yaml");
    assertThat(service.get("ExecReload")).containsExactly("/bin/kill -HUP $MAINPID");
    assertThat(section("Install").get("WantedBy")).containsExactly("multi-user.target");
  }

  @Test
  void stopWaitsLongerThanTheShutdownGraceAndTreatsTheJvmsSigtermExitAsSuccess()
      throws IOException {
    Map<String, List<String>> service = section("Service");
    assertThat(service.get("KillSignal")).containsExactly("SIGTERM");
    Duration stop =
        Duration.ofSeconds(Long.parseLong(service.get("TimeoutStopSec").get(0).replace("s", "")));
    Duration defaultGrace = Duration.ofSeconds(10); // server.shutdown_grace
    assertThat(stop).isGreaterThan(defaultGrace.multipliedBy(2));
    assertThat(service.get("SuccessExitStatus")).containsExactly("143");
    assertThat(service.get("Restart")).containsExactly("on-failure");
    assertThat(service.get("LimitNOFILE")).containsExactly("65536");
  }

  @Test
  void hardeningLeavesOnlyTheDataDirectoryAndAPrivateTmpWritable() throws IOException {
    Map<String, List<String>> service = section("Service");
    assertThat(service.get("NoNewPrivileges")).containsExactly("yes");
    assertThat(service.get("ProtectSystem")).containsExactly("strict");
    assertThat(service.get("ProtectHome")).containsExactly("yes");
    assertThat(service.get("PrivateTmp")).containsExactly("yes"); // SQLite JDBC's native library
    assertThat(service.get("ReadWritePaths")).containsExactly("/var/lib/switchboard");
    assertThat(service.get("WorkingDirectory")).containsExactly("/var/lib/switchboard");
  }

  @Test
  void tarballShipsTheUnitAndTheInstallGuideNamesTheSamePaths() throws IOException {
    assertThat(Files.readString(Path.of("packaging/tarball.xml")))
        .contains("<source>packaging/systemd/switchboard.service</source>")
        .contains("<source>packaging/INSTALL.md</source>");
    assertThat(Files.readString(Path.of("packaging/INSTALL.md")))
        .contains("/opt/switchboard")
        .contains("/etc/switchboard/switchboard.yaml")
        .contains("install -m 600 /dev/null /etc/switchboard/switchboard.env")
        .contains("/var/lib/switchboard")
        .contains("systemctl enable --now switchboard");
  }

  /** key → values of one [section], comments and blank lines skipped. */
  private static Map<String, List<String>> section(String name) throws IOException {
    Map<String, List<String>> keys = new LinkedHashMap<>();
    String current = null;
    for (String raw : Files.readAllLines(UNIT)) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
        continue;
      }
      if (line.startsWith("[")) {
        current = line.substring(1, line.length() - 1);
      } else if (name.equals(current)) {
        int eq = line.indexOf('=');
        keys.computeIfAbsent(line.substring(0, eq), k -> new ArrayList<>())
            .add(line.substring(eq + 1));
      }
    }
    assertThat(keys).as("[" + name + "] in " + UNIT).isNotEmpty();
    return keys;
  }
}
