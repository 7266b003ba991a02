package dev.switchboard.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launchers' JVM options (docs/adr/0011) and when the source tree's launcher uses the AOT cache
 * (docs/adr/0012), read from the shell files themselves.
 */
class LauncherOptionsTest {
  static final Path OPTIONS = Path.of("bin/java-options.sh");
  static final Path TARBALL_LAUNCHER = Path.of("packaging/bin/switchboard");

  @TempDir Path dir;

  @Test
  void theTarballsLauncherRunsTheSameBoundedHeapAsTheSourceTreesLauncher() throws IOException {
    String source = quoted(OPTIONS, "SWITCHBOARD_DEFAULT_JAVA_OPTS");
    assertThat(source)
        .contains("-XX:+UseSerialGC", "-Xmx192m", "-XX:+ExitOnOutOfMemoryError")
        .doesNotContain("ParallelGC");
    assertThat(quoted(TARBALL_LAUNCHER, "default_opts")).isEqualTo(source);
    // both keep glibc to two malloc arenas unless the operator says otherwise
    assertThat(Files.readString(OPTIONS))
        .contains("export MALLOC_ARENA_MAX=\"${MALLOC_ARENA_MAX:-2}\"");
    assertThat(Files.readString(TARBALL_LAUNCHER))
        .contains("MALLOC_ARENA_MAX=\"${MALLOC_ARENA_MAX:-2}\"", "export MALLOC_ARENA_MAX");
  }

  @Test
  void theCacheIsUsedWithAJdk25WhenItIsNotOlderThanTheJar() throws Exception {
    Path jar = Files.writeString(dir.resolve("switchboard.jar"), "jar");
    Path cache = Files.writeString(dir.resolve("switchboard.aot"), "cache");
    Path jdk25 = fakeJdk("jdk25", "25.0.3");
    Path jdk21 = fakeJdk("jdk21", "21.0.8");
    Files.setLastModifiedTime(jar, FileTime.from(Instant.parse("2026-12-07T10:00:00Z")));
    Files.setLastModifiedTime(cache, FileTime.from(Instant.parse("2026-12-07T10:00:05Z")));

    assertThat(aotOption(jdk25, jar, "on")).isEqualTo("-XX:AOTCache=" + cache);
    assertThat(aotOption(jdk21, jar, "on")).as("JDK 21 has no AOT cache").isEmpty();
    assertThat(aotOption(jdk25, jar, "off")).as("SWITCHBOARD_AOT=off").isEmpty();

    Files.setLastModifiedTime(jar, FileTime.from(Instant.parse("2026-12-07T10:01:00Z")));
    assertThat(aotOption(jdk25, jar, "on")).as("the jar was rebuilt after the cache").isEmpty();

    Files.delete(cache);
    assertThat(aotOption(jdk25, jar, "on")).as("no cache").isEmpty();
  }

  /** A JDK folder with only what the launcher reads: bin/java and the release file. */
  private Path fakeJdk(String name, String version) throws IOException {
    Path home = Files.createDirectories(dir.resolve(name));
    Files.createDirectories(home.resolve("bin"));
    Files.writeString(home.resolve("bin/java"), "#!/bin/sh\nexit 1\n");
    home.resolve("bin/java").toFile().setExecutable(true);
    Files.writeString(home.resolve("release"), "JAVA_VERSION=\"" + version + "\"\n");
    return home;
  }

  private String aotOption(Path jdk, Path jar, String aot) throws Exception {
    String script =
        ". bin/find-jdk.sh >/dev/null 2>&1 || true; . bin/java-options.sh; "
            + "JAVA_HOME=\"$1\"; _sb_aot_option \"$2\"";
    ProcessBuilder pb =
        new ProcessBuilder(List.of("bash", "-c", script, "test", jdk.toString(), jar.toString()))
            .redirectErrorStream(true);
    pb.environment().put("SWITCHBOARD_AOT", aot);
    Process p = pb.start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new String(p.getInputStream().readAllBytes()).strip();
  }

  private static String quoted(Path file, String variable) throws IOException {
    Matcher m =
        Pattern.compile("(?m)^" + variable + "=\"([^\"]*)\"").matcher(Files.readString(file));
    assertThat(m.find()).as(variable + " in " + file).isTrue();
    return m.group(1);
  }
}
