package dev.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReloadResultTest {
  @TempDir Path dir;

  SwitchboardConfig load(String yaml) throws Exception {
    Path file = dir.resolve("switchboard.yaml");
    Files.writeString(file, yaml);
    return ConfigLoader.load(file, Map.of());
  }

  static final String BASE =
      """
      server: { host: 127.0.0.1, port: 8080 }
      store: { path: data/a.db }
      admin: { token: "t-1" }
      sources:
        calls: { verify: { scheme: none } }
      routes:
        to-crm: { from: calls, to: crm, when: disposition.code = "RESOLVED" }
      destinations:
        crm: { type: http, url: "http://127.0.0.1:9/in" }
      """;

  @Test
  void theSameFileLoadedTwiceChangesNothing() throws Exception {
    ReloadResult result = ReloadResult.between(load(BASE), load(BASE));
    assertThat(result.changedNothing()).isTrue();
  }

  @Test
  void changesAreNamedAndRestartOnlyKeysAreWarningsWithoutValues() throws Exception {
    SwitchboardConfig running = load(BASE);
    SwitchboardConfig loaded =
        load(
            BASE.replace("port: 8080", "port: 9090")
                .replace("data/a.db", "data/secret-b.db")
                .replace("t-1", "t-2")
                .replace("\"RESOLVED\"", "\"PENDING\"")
                .replace(
                    "destinations:\n",
                    "destinations:\n  other: { type: http, url: \"http://127.0.0.1:9/x\" }\n"));
    ReloadResult result = ReloadResult.between(running, loaded);
    assertThat(result.routes().changed()).containsExactly("to-crm");
    assertThat(result.destinations().added()).containsExactly("other");
    assertThat(result.destinations().changed()).isEmpty();
    assertThat(result.sources().isEmpty()).isTrue();
    assertThat(result.adminTokenChanged()).isTrue();
    assertThat(result.warnings())
        .containsExactly(
            "store.path changed: takes effect after a restart",
            "server.port changed: takes effect after a restart");
    assertThat(String.join(" ", result.warnings()))
        .doesNotContain("secret-b")
        .doesNotContain("9090");

    SwitchboardConfig applied = ReloadResult.applicable(running, loaded);
    assertThat(applied.server().port()).isEqualTo(8080);
    assertThat(applied.store().path()).isEqualTo("data/a.db");
    assertThat(applied.admin().token()).isEqualTo("t-2");
    assertThat(applied.routes()).isEqualTo(loaded.routes());
  }
}
