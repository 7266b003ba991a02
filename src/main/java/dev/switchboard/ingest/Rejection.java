package dev.switchboard.ingest;

/**
 * The closed catalogue of ingest refusals (docs/guarantees.md): status code and machine code. The
 * message is chosen per case but never echoes a secret, a signature or the payload.
 */
public enum Rejection {
  UNKNOWN_SOURCE(404, "unknown_source"),
  METHOD_NOT_ALLOWED(405, "method_not_allowed"),
  IP_NOT_ALLOWED(403, "ip_not_allowed"),
  BODY_TOO_LARGE(413, "body_too_large"),
  SIGNATURE_REJECTED(401, "signature_rejected"),
  UNSUPPORTED_MEDIA_TYPE(415, "unsupported_media_type"),
  INVALID_JSON(400, "invalid_json"),
  IDEMPOTENCY_KEY_MISSING(400, "idempotency_key_missing"),
  IDEMPOTENCY_KEY_INVALID(400, "idempotency_key_invalid"),
  PARTITION_KEY_INVALID(400, "partition_key_invalid"),
  RATE_LIMITED(429, "rate_limited"),
  SHUTTING_DOWN(503, "shutting_down"),
  BACKLOG_FULL(503, "backlog_full"),
  STORE_UNAVAILABLE(503, "store_unavailable"),
  SCHEMA_INVALID(400, "schema_invalid"),
  INTERNAL_ERROR(500, "internal_error");

  private final int status;
  private final String code;

  Rejection(int status, String code) {
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }
}
