package dev.switchboard.ingest;

import dev.switchboard.ingest.verify.HeaderLookup;
import java.io.InputStream;
import java.util.Map;

/**
 * One inbound request as the HTTP layer sees it, before anything is read from the body.
 *
 * @param remoteAddress the TCP peer's address
 * @param contentLength the declared length, or -1 when absent (chunked)
 * @param headers every header, lower-case names, first value
 */
public record IngestRequest(
    String method,
    String remoteAddress,
    long contentLength,
    String contentType,
    Map<String, String> headers,
    InputStream body) {

  public HeaderLookup headerLookup() {
    return headers::get;
  }
}
