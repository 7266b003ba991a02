package dev.switchboard.admin;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;

/**
 * The dashboard at {@code /ui}: a few static files from the jar ({@code src/main/resources/ui/})
 * plus Chart.js from its WebJar at {@code /ui/vendor/chart.umd.js}; nothing is fetched from the
 * internet at run time.
 *
 * <p>The pages need no token to load: they ask for the admin token, keep it in the browser's {@code
 * sessionStorage} and send it as {@code Authorization: Bearer} to {@code /api/v1}, which checks it
 * as for any other client. Only the files listed here are served, so no request path reaches the
 * class path.
 */
public final class UiRoutes {
  public static final String BASE = "/ui";
  private static final String CHART_JS_POM =
      "/META-INF/maven/org.webjars.npm/chart.js/pom.properties";

  /** Served path (below {@link #BASE}) → class-path resource and content type. */
  private final Map<String, Asset> assets;

  private record Asset(String resource, String contentType) {}

  public UiRoutes() {
    this.assets =
        Map.of(
            "/",
            new Asset("/ui/index.html", "text/html; charset=utf-8"),
            "/app.js",
            new Asset("/ui/app.js", "text/javascript; charset=utf-8"),
            "/app.css",
            new Asset("/ui/app.css", "text/css; charset=utf-8"),
            "/vendor/chart.umd.js",
            new Asset(
                "/META-INF/resources/webjars/chart.js/" + chartJsVersion() + "/dist/chart.umd.js",
                "text/javascript; charset=utf-8"));
  }

  public void register(RoutesConfig routes) {
    // Javalin ignores a trailing slash: this serves both /ui and /ui/
    routes.get(BASE, ctx -> serve(ctx, "/"));
    routes.get(BASE + "/app.js", ctx -> serve(ctx, "/app.js"));
    routes.get(BASE + "/app.css", ctx -> serve(ctx, "/app.css"));
    routes.get(BASE + "/vendor/chart.umd.js", ctx -> serve(ctx, "/vendor/chart.umd.js"));
  }

  private void serve(Context ctx, String path) {
    Asset asset = assets.get(path);
    byte[] bytes = read(asset.resource());
    if (bytes == null) {
      ctx.status(404).contentType("text/plain; charset=utf-8").result("not found\n");
      return;
    }
    ctx.header("Cache-Control", "no-cache");
    ctx.header("X-Content-Type-Options", "nosniff");
    // the pages load only their own scripts and talk only to this gateway
    ctx.header(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    ctx.contentType(asset.contentType()).result(bytes);
  }

  private static byte[] read(String resource) {
    try (InputStream in = UiRoutes.class.getResourceAsStream(resource)) {
      return in == null ? null : in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
  }

  /** The Chart.js WebJar's version, from the Maven metadata the jar carries. */
  private static String chartJsVersion() {
    try (InputStream in = UiRoutes.class.getResourceAsStream(CHART_JS_POM)) {
      if (in == null) {
        throw new IllegalStateException("the Chart.js WebJar is missing from the class path");
      }
      Properties pom = new Properties();
      pom.load(in);
      return pom.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + CHART_JS_POM, e);
    }
  }
}
