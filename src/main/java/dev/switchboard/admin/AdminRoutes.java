package dev.switchboard.admin;

import dev.switchboard.dispatch.DeliveryService;
import dev.switchboard.domain.DeliveryId;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * The first admin endpoints: pause and resume a destination, replay one delivery. Bearer token from
 * the configuration, compared in constant time; without a configured token the admin API is off
 * (404). The full API (search, bulk actions, OpenAPI) builds on {@link DeliveryService}.
 */
public final class AdminRoutes {
  private final byte[] token;
  private final DeliveryService deliveries;

  /**
   * @param token the configured admin token, or null when the admin API is disabled
   */
  public AdminRoutes(String token, DeliveryService deliveries) {
    this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    this.deliveries = deliveries;
  }

  public void register(RoutesConfig routes) {
    routes.post("/api/v1/destinations/{name}/pause", guarded(ctx -> pauseOrResume(ctx, true)));
    routes.post("/api/v1/destinations/{name}/resume", guarded(ctx -> pauseOrResume(ctx, false)));
    routes.post(
        "/api/v1/deliveries/{id}/replay",
        guarded(
            ctx -> {
              boolean replayed =
                  deliveries.replayOne(new DeliveryId(ctx.pathParam("id")), "admin-api");
              if (replayed) {
                ctx.status(204);
              } else {
                problem(ctx, 409, "not_replayable", "only dead or delivered deliveries replay");
              }
            }));
  }

  private void pauseOrResume(Context ctx, boolean pause) {
    String name = ctx.pathParam("name");
    try {
      if (pause) {
        deliveries.pause(name, "admin-api");
      } else {
        deliveries.resume(name, "admin-api");
      }
      ctx.status(204);
    } catch (IllegalArgumentException e) {
      problem(ctx, 404, "unknown_destination", "no destination named " + name);
    }
  }

  private Handler guarded(Handler handler) {
    return ctx -> {
      if (token == null) {
        problem(ctx, 404, "admin_disabled", "the admin API is off: set admin.token");
        return;
      }
      String header = ctx.header("Authorization");
      byte[] given =
          header != null && header.startsWith("Bearer ")
              ? header.substring(7).getBytes(StandardCharsets.UTF_8)
              : new byte[0];
      if (!MessageDigest.isEqual(given, token)) {
        ctx.header("WWW-Authenticate", "Bearer");
        problem(ctx, 401, "unauthorized", "a valid admin bearer token is required");
        return;
      }
      handler.handle(ctx);
    };
  }

  private static void problem(Context ctx, int status, String type, String detail) {
    ctx.status(status);
    ctx.contentType("application/problem+json");
    ctx.result(
        toJson(
            Map.of(
                "type", "https://switchboard.dev/problems/" + type,
                "title", type,
                "status", status,
                "detail", detail)));
  }

  private static String toJson(Map<String, Object> body) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
