package dev.switchboard.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.io.IOException;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Adapts {@code /hooks/{source}} on the HTTP server to {@link IngestService}. */
public final class IngestEndpoint {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<HandlerType> METHODS =
      List.of(
          HandlerType.POST,
          HandlerType.GET,
          HandlerType.PUT,
          HandlerType.PATCH,
          HandlerType.DELETE);

  private final IngestService service;

  public IngestEndpoint(IngestService service) {
    this.service = service;
  }

  public void register(RoutesConfig routes) {
    for (HandlerType method : METHODS) {
      routes.addHttpHandler(method, "/hooks/{source}", this::handle);
    }
  }

  private void handle(Context ctx) throws IOException {
    var req = ctx.req();
    Map<String, String> headers = new HashMap<>();
    Enumeration<String> names = req.getHeaderNames();
    while (names.hasMoreElements()) {
      String name = names.nextElement();
      headers.putIfAbsent(name.toLowerCase(Locale.ROOT), req.getHeader(name));
    }
    IngestRequest request =
        new IngestRequest(
            req.getMethod(),
            req.getRemoteAddr(),
            req.getContentLengthLong(),
            req.getContentType(),
            headers,
            req.getInputStream());
    IngestResponse response = service.handle(ctx.pathParam("source"), request);
    response.headers().forEach(ctx::header);
    ctx.status(response.status()).contentType("application/json").result(toJson(response.body()));
  }

  private static byte[] toJson(Map<String, Object> body) {
    try {
      return JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
