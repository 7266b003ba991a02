package dev.switchboard.ingest;

import java.util.Map;

/** What the HTTP layer answers: status, JSON body, extra headers (such as {@code Retry-After}). */
public record IngestResponse(int status, Map<String, Object> body, Map<String, String> headers) {

  static IngestResponse reject(Rejection rejection, String message) {
    return new IngestResponse(
        rejection.status(), Map.of("error", rejection.code(), "message", message), Map.of());
  }

  static IngestResponse retryLater(Rejection rejection, String message, long retryAfterSeconds) {
    return new IngestResponse(
        rejection.status(),
        Map.of("error", rejection.code(), "message", message),
        Map.of("Retry-After", Long.toString(Math.max(1, retryAfterSeconds))));
  }
}
