package dev.switchboard.admin;

import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigProblem;
import dev.switchboard.config.ReloadResult;
import java.util.List;
import java.util.Set;

/**
 * {@code POST /api/v1/config/reload}: re-reads the configuration file, validates it whole and
 * applies it (the rule is on {@link ReloadResult}). A file with problems changes nothing and is
 * answered 422 with every problem's file, line and key; no value from the file is ever quoted.
 */
final class ReloadEndpoint {
  private final ConfigReloader reloader;

  ReloadEndpoint(ConfigReloader reloader) {
    this.reloader = reloader;
  }

  void register(ApiRouter api) {
    api.post("/api/v1/config/reload", Set.of(), r -> reload());
  }

  private Object reload() {
    if (reloader == null) {
      throw Problem.NOT_FOUND.with("this gateway cannot reload its configuration");
    }
    ReloadResult result;
    try {
      result = reloader.reload();
    } catch (ConfigException e) {
      List<Views.Obj> problems =
          e.problems().stream()
              .map(
                  (ConfigProblem p) ->
                      Views.obj()
                          .with("file", p.file())
                          .with("line", p.line())
                          .with("path", p.path())
                          .with("message", p.message()))
              .toList();
      throw Problem.INVALID_CONFIG
          .with(
              problems.size()
                  + " problem(s) in the configuration file; the running configuration is unchanged")
          .extra("problems", problems);
    }
    return view(result);
  }

  static Views.Obj view(ReloadResult result) {
    return Views.obj()
        .with("sources", changes(result.sources()))
        .with("routes", changes(result.routes()))
        .with("destinations", changes(result.destinations()))
        .with("enrichers", changes(result.enrichers()))
        .with("adminTokenChanged", result.adminTokenChanged())
        .with("warnings", result.warnings());
  }

  private static Views.Obj changes(ReloadResult.Changes c) {
    return Views.obj()
        .with("added", c.added())
        .with("removed", c.removed())
        .with("changed", c.changed());
  }
}
