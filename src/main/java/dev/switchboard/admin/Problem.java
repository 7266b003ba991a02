package dev.switchboard.admin;

import java.util.Locale;

/**
 * The closed catalogue of admin API errors, rendered as {@code application/problem+json} (RFC
 * 9457): {@code type} is {@link #TYPE_BASE} + the code, {@code title} is fixed per code, {@code
 * detail} is chosen per case. No detail ever quotes the token, a secret, a payload or a request's
 * parameter values; a parameter is named, not echoed. The OpenAPI document lists the same codes (a
 * test keeps them in step).
 */
public enum Problem {
  UNAUTHORIZED(401, "A valid admin bearer token is required"),
  ADMIN_DISABLED(404, "The admin API is off"),
  NOT_FOUND(404, "No such endpoint"),
  UNKNOWN_DESTINATION(404, "No such destination"),
  UNKNOWN_EVENT(404, "No such event"),
  UNKNOWN_DELIVERY(404, "No such delivery"),
  INVALID_PARAMETER(400, "A query parameter is missing, unknown or malformed"),
  INVALID_BODY(400, "The request body is not what this endpoint takes"),
  INVALID_CURSOR(400, "The cursor is not one this endpoint handed out"),
  FILTER_REQUIRED(400, "A bulk action needs a filter, or all: true"),
  NOT_REPLAYABLE(409, "Only dead or delivered deliveries can be replayed"),
  NOT_DISCARDABLE(409, "Only dead letters can be discarded"),
  NOT_RELEASABLE(409, "Only quarantined events of a configured source can be released"),
  INVALID_CONFIG(422, "The configuration file has problems; nothing was changed"),
  STORE_UNAVAILABLE(503, "The store cannot answer right now"),
  INTERNAL_ERROR(500, "Internal error");

  public static final String TYPE_BASE = "https://switchboard.dev/problems/";

  private final int status;
  private final String title;

  Problem(int status, String title) {
    this.status = status;
    this.title = title;
  }

  public int status() {
    return status;
  }

  public String title() {
    return title;
  }

  /** The machine code, e.g. {@code unknown_destination}. */
  public String code() {
    return name().toLowerCase(Locale.ROOT);
  }

  public String type() {
    return TYPE_BASE + code();
  }

  /** An exception carrying this problem, for handlers to throw. */
  public ProblemException with(String detail) {
    return new ProblemException(this, detail);
  }
}
