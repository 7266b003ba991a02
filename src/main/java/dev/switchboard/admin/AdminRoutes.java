package dev.switchboard.admin;

import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.dispatch.DeliveryService;
import dev.switchboard.ingest.QuarantineService;
import dev.switchboard.observability.GatewayMetrics;
import dev.switchboard.store.EventStore;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The admin REST API under {@code /api/v1} (docs/admin-api.md; the OpenAPI document is {@link
 * #OPENAPI_RESOURCE}, served at {@link #OPENAPI_PATH}).
 *
 * <p>Every path under {@code /api/v1} but the document needs the configured bearer token, compared
 * in constant time (both sides hashed first, so not even the length shows); without it or with a
 * wrong one the answer is 401 before any route is looked up, so an unauthorised caller learns
 * nothing, not even which paths exist. Without a configured token the admin API is off (404).
 * Errors are {@code application/problem+json} from the {@link Problem} catalogue.
 */
public final class AdminRoutes {
  public static final String BASE = "/api/v1";
  public static final String OPENAPI_PATH = BASE + "/openapi.yaml";
  public static final String OPENAPI_RESOURCE = "/openapi/switchboard-admin.yaml";

  private final Supplier<SwitchboardConfig> config;
  private final ConfigReloader reloader;
  private final EventStore events;
  private final DeliveryService deliveries;
  private final QuarantineService quarantine;
  private final GatewayMetrics metrics;
  private final Runnable sampleQueues;
  private final byte[] openApi;
  private List<ApiRouter.Declared> declared = List.of();
  private Supplier<List<dev.switchboard.pull.PullStatus>> pullStatus = List::of;

  /**
   * @param token the configured admin token, or null when the admin API is disabled
   * @param sampleQueues puts the destinations' queue figures into the stats series now
   */
  public AdminRoutes(
      String token,
      SwitchboardConfig config,
      EventStore events,
      DeliveryService deliveries,
      GatewayMetrics metrics,
      Runnable sampleQueues) {
    this(() -> withToken(config, token), events, deliveries, null, metrics, sampleQueues, null);
  }

  /**
   * @param config the running configuration, read on every request: a reload changes what the API
   *     shows and the token it asks for
   * @param quarantine releases quarantined events, or null when this gateway cannot (the release
   *     endpoints then answer 404 {@code not_found})
   * @param reloader reloads the configuration from its file, or null when this gateway cannot
   */
  public AdminRoutes(
      Supplier<SwitchboardConfig> config,
      EventStore events,
      DeliveryService deliveries,
      QuarantineService quarantine,
      GatewayMetrics metrics,
      Runnable sampleQueues,
      ConfigReloader reloader) {
    this.config = config;
    this.reloader = reloader;
    this.events = events;
    this.deliveries = deliveries;
    this.quarantine = quarantine;
    this.metrics = metrics;
    this.sampleQueues = sampleQueues;
    this.openApi = readOpenApi();
  }

  /** Where {@code GET /api/v1/sources} reads the pulled sources' state (docs/sources.md). */
  public AdminRoutes withPullSources(Supplier<List<dev.switchboard.pull.PullStatus>> status) {
    this.pullStatus = status;
    return this;
  }

  public void register(RoutesConfig routes) {
    routes.before(BASE + "/*", this::guard);
    routes.get(
        OPENAPI_PATH, ctx -> ctx.contentType("application/yaml; charset=utf-8").result(openApi));
    ApiRouter api = new ApiRouter(routes);
    new ConfigEndpoints(config, metrics, pullStatus).register(api);
    new DestinationEndpoints(deliveries, () -> config.get().destinations(), metrics.stats())
        .register(api);
    new ReloadEndpoint(reloader).register(api);
    new EventEndpoints(events, deliveries, quarantine).register(api);
    new DeliveryEndpoints(deliveries).register(api);
    new StatsEndpoint(metrics.stats(), sampleQueues).register(api);
    declared = api.declared();
    routes.error(
        404,
        ctx -> {
          if (ctx.path().startsWith(BASE + "/") && !ApiRouter.rendered(ctx)) {
            ApiRouter.render(ctx, Problem.NOT_FOUND, "see " + OPENAPI_PATH);
          }
        });
  }

  /** The endpoints as declared, with their query parameters (for the OpenAPI test). */
  List<ApiRouter.Declared> declared() {
    return declared;
  }

  private void guard(Context ctx) {
    if (ctx.path().equals(OPENAPI_PATH)) {
      return;
    }
    SwitchboardConfig running = config.get();
    String token = running.admin() == null ? null : running.admin().token();
    // a blank token would match a missing header: treat it as no token at all
    byte[] tokenDigest = token == null || token.isBlank() ? null : sha256(token);
    if (tokenDigest == null) {
      ApiRouter.render(ctx, Problem.ADMIN_DISABLED, "set admin.token in the configuration");
      ctx.skipRemainingHandlers();
      return;
    }
    if (!MessageDigest.isEqual(sha256(bearer(ctx.header("Authorization"))), tokenDigest)) {
      ctx.header("WWW-Authenticate", "Bearer realm=\"switchboard-admin\"");
      ApiRouter.render(
          ctx, Problem.UNAUTHORIZED, "send Authorization: Bearer <the configured admin.token>");
      ctx.skipRemainingHandlers();
    }
  }

  private static SwitchboardConfig withToken(SwitchboardConfig c, String token) {
    return new SwitchboardConfig(
        c.file(),
        c.server(),
        c.store(),
        token == null ? null : new dev.switchboard.config.AdminConfig(token),
        c.sources(),
        c.enrichers(),
        c.routes(),
        c.destinations());
  }

  /** The credential of an {@code Authorization: Bearer …} header, or "" (never a valid token). */
  private static String bearer(String header) {
    if (header == null || header.length() < 7) {
      return "";
    }
    boolean isBearer = header.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ");
    return isBearer ? header.substring(7).strip() : "";
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private static byte[] readOpenApi() {
    try (InputStream in = AdminRoutes.class.getResourceAsStream(OPENAPI_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + OPENAPI_RESOURCE);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + OPENAPI_RESOURCE, e);
    }
  }
}
