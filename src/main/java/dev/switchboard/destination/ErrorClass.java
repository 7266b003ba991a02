package dev.switchboard.destination;

/**
 * The coarse class of a failed attempt, stored with a retried or dead delivery ({@code
 * error_class}) and used to replay dead letters in bulk ({@code errorClass} in the admin API). A
 * connector sets it where it builds its {@link DeliveryResult}: the class is a typed field, never
 * read back from the error text.
 */
public enum ErrorClass {
  /** The destination answered 429. */
  HTTP_429("http_429"),
  /** The destination answered 5xx. */
  HTTP_5XX("http_5xx"),
  /** The destination answered another 4xx. */
  HTTP_4XX("http_4xx"),
  /** The destination answered with another status (a 2xx without the expected body, a 3xx, …). */
  HTTP_OTHER("http_other"),
  /** No answer in time. */
  TIMEOUT("timeout"),
  /** The destination could not be reached, or the connection broke. */
  CONNECTION("connection"),
  /**
   * The call was never made: the destination's credentials were refused (an OAuth token endpoint
   * refused the client). Fixed credentials cure it, so it is retried.
   */
  AUTH("auth"),
  /** Switchboard's own failure during the attempt (a bug in a step). */
  INTERNAL("internal"),
  /** Anything else that got no HTTP answer. */
  ERROR("error");

  private final String stored;

  ErrorClass(String stored) {
    this.stored = stored;
  }

  /** The text stored in {@code error_class} and shown by the admin API. */
  public String stored() {
    return stored;
  }

  /** The class of an HTTP answer's status; {@link #ERROR} for 0 (no answer). */
  public static ErrorClass ofStatus(int status) {
    if (status == 429) {
      return HTTP_429;
    } else if (status >= 500) {
      return HTTP_5XX;
    } else if (status >= 400) {
      return HTTP_4XX;
    } else if (status > 0) {
      return HTTP_OTHER;
    }
    return ERROR;
  }

  @Override
  public String toString() {
    return stored;
  }
}
