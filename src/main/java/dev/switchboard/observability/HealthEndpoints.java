package dev.switchboard.observability;

import io.javalin.config.RoutesConfig;
import java.util.function.BooleanSupplier;

/**
 * {@code /healthz} (the process answers), {@code /readyz} (the store takes writes and the gateway
 * is not shutting down: a load balancer should send traffic) and {@code /metrics} (Prometheus).
 */
public final class HealthEndpoints {
  private final GatewayMetrics metrics;
  private final BooleanSupplier storeWritable;
  private final BooleanSupplier accepting;

  public HealthEndpoints(
      GatewayMetrics metrics, BooleanSupplier storeWritable, BooleanSupplier accepting) {
    this.metrics = metrics;
    this.storeWritable = storeWritable;
    this.accepting = accepting;
  }

  public void register(RoutesConfig routes) {
    routes.get("/healthz", ctx -> ctx.json(java.util.Map.of("status", "ok")));
    routes.get(
        "/readyz",
        ctx -> {
          boolean isAccepting = accepting.getAsBoolean();
          boolean writable = isAccepting && storeWritable.getAsBoolean();
          String status = !isAccepting ? "shutting_down" : writable ? "ready" : "store_unwritable";
          ctx.status(writable ? 200 : 503).json(java.util.Map.of("status", status));
        });
    routes.get(
        "/metrics",
        ctx ->
            ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
  }
}
