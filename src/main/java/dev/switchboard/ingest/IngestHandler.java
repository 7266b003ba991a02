package dev.switchboard.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Serves {@code /hooks/{source}} straight on Jetty's core API, in front of the web framework that
 * serves everything else. Ingest is the hot path; skipping the servlet and routing layers for it is
 * a measured saving (see docs/adr/0004). Every other path goes to the wrapped handler.
 *
 * <p>Handling blocks (reading the body, waiting for the group commit), so this handler declares
 * itself blocking and Jetty runs it on a pool thread, never on a selector.
 */
public final class IngestHandler extends Handler.Wrapper {
  private static final String PREFIX = "/hooks/";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final IngestService service;

  public IngestHandler(IngestService service) {
    this.service = service;
  }

  @Override
  public InvocationType getInvocationType() {
    return InvocationType.BLOCKING;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    String path = Request.getPathInContext(request);
    if (!path.startsWith(PREFIX) || path.indexOf('/', PREFIX.length()) >= 0) {
      return super.handle(request, response, callback);
    }
    Map<String, String> headers = new HashMap<>();
    for (HttpField field : request.getHeaders()) {
      // a repeated header is one list (RFC 9110 §5.3): a proxy that appends its own
      // X-Forwarded-For line must not leave the client's line to decide the allow-list
      headers.merge(field.getLowerCaseName(), field.getValue(), (a, b) -> a + ", " + b);
    }
    String contentType = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    IngestRequest ingest =
        new IngestRequest(
            request.getMethod().toUpperCase(Locale.ROOT),
            Request.getRemoteAddr(request),
            request.getLength(),
            contentType,
            headers,
            Content.Source.asInputStream(request));
    IngestResponse answer = service.handle(path.substring(PREFIX.length()), ingest);
    response.setStatus(answer.status());
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    answer.headers().forEach(response.getHeaders()::put);
    response.write(true, ByteBuffer.wrap(toJson(answer.body())), callback);
    return true;
  }

  private static byte[] toJson(Map<String, Object> body) {
    try {
      return JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
