package dev.switchboard.demo.genesys;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A Platform API error, thrown by a handler and rendered in Genesys's normalised body {@code
 * {message, code, status, contextId, details: [], errors: []}} by the fake's one exception handler.
 */
final class ApiError extends RuntimeException {
  final int status;
  final String code;

  ApiError(int status, String code, String message) {
    super(message, null, false, false); // control flow, not a failure: no stack trace
    this.status = status;
    this.code = code;
  }

  static ApiError badRequest(String message) {
    return new ApiError(400, "bad.request", message);
  }

  /** The code is a guess: Genesys documents the status, not this body (see the fake's comment). */
  static ApiError forbidden(String permission) {
    return new ApiError(
        403,
        "missing.any.permissions",
        "Unable to perform the requested action. You must have at least one of the following"
            + " permissions assigned: ["
            + permission
            + "]");
  }

  Map<String, Object> body() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("message", getMessage());
    body.put("code", code);
    body.put("status", status);
    body.put("contextId", UUID.randomUUID().toString());
    body.put("details", List.of());
    body.put("errors", List.of());
    return body;
  }
}
