package dev.switchboard.admin;

import dev.switchboard.store.StoreUnavailableException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers admin endpoints with the query parameters each one takes, and runs their handlers: an
 * unknown query parameter is refused (a misspelt filter must not silently match everything), a
 * {@link ProblemException} is rendered from the catalogue, and anything unexpected is logged with
 * its route and answered as a bare {@link Problem#INTERNAL_ERROR}.
 */
final class ApiRouter {
  private static final Logger LOG = LoggerFactory.getLogger(ApiRouter.class);

  /** Request attribute set once a problem body is written. */
  private static final String RENDERED = "switchboard.problem";

  /** One endpoint as declared: what the OpenAPI test compares with the document. */
  record Declared(String method, String path, Set<String> query) {}

  /** What a handler answers: a status and a body to render as JSON (null for none). */
  record Reply(int status, Object body) {
    static Reply noContent() {
      return new Reply(204, null);
    }
  }

  @FunctionalInterface
  interface ApiHandler {
    /** Returns a {@link Reply}, or any other object to answer 200 with it as JSON. */
    Object handle(ApiRequest request) throws Exception;
  }

  private final RoutesConfig routes;
  private final List<Declared> declared = new ArrayList<>();

  ApiRouter(RoutesConfig routes) {
    this.routes = routes;
  }

  void get(String path, Set<String> query, ApiHandler handler) {
    declared.add(new Declared("GET", path, Set.copyOf(query)));
    routes.get(path, ctx -> run(ctx, path, query, handler));
  }

  void post(String path, Set<String> query, ApiHandler handler) {
    declared.add(new Declared("POST", path, Set.copyOf(query)));
    routes.post(path, ctx -> run(ctx, path, query, handler));
  }

  List<Declared> declared() {
    return List.copyOf(declared);
  }

  private static void run(Context ctx, String path, Set<String> query, ApiHandler handler) {
    try {
      for (String name : ctx.queryParamMap().keySet()) {
        if (!query.contains(name)) {
          throw Problem.INVALID_PARAMETER.with(
              "unknown parameter; this endpoint takes "
                  + (query.isEmpty()
                      ? "none"
                      : String.join(", ", query.stream().sorted().toList())));
        }
      }
      Object result = handler.handle(new ApiRequest(ctx));
      Reply reply = result instanceof Reply r ? r : new Reply(200, result);
      ctx.status(reply.status());
      if (reply.body() != null) {
        ctx.contentType("application/json").result(Views.write(reply.body()));
      }
    } catch (ProblemException e) {
      render(ctx, e.problem(), e.detail(), e.extra());
    } catch (StoreUnavailableException e) {
      LOG.warn("admin {} {}: store unavailable: {}", ctx.method(), path, e.getMessage());
      render(ctx, Problem.STORE_UNAVAILABLE, "retry in a few seconds");
      ctx.header("Retry-After", "5");
    } catch (Exception e) {
      // the message may quote stored data: log the route and where it failed, not what it says
      StackTraceElement at = e.getStackTrace().length > 0 ? e.getStackTrace()[0] : null;
      LOG.error("admin {} {} failed: {} at {}", ctx.method(), path, e.getClass().getName(), at);
      render(ctx, Problem.INTERNAL_ERROR, "see the gateway's log");
    }
  }

  /** Writes a problem body; marks the response so the 404 mapper leaves it alone. */
  static void render(Context ctx, Problem problem, String detail) {
    render(ctx, problem, detail, Map.of());
  }

  private static void render(
      Context ctx, Problem problem, String detail, Map<String, Object> extra) {
    ctx.attribute(RENDERED, Boolean.TRUE);
    ctx.status(problem.status());
    ctx.contentType("application/problem+json");
    Views.Obj body = Views.problem(problem, detail);
    body.putAll(extra);
    ctx.result(Views.write(body));
  }

  static boolean rendered(Context ctx) {
    return Boolean.TRUE.equals(ctx.attribute(RENDERED));
  }
}
