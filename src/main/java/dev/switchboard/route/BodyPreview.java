package dev.switchboard.route;

/**
 * What a route sends for an event, for the operator: the route's current transform over the stored
 * (redacted) payload, or the payload itself when it has none.
 *
 * @param body the JSON text, or null when it cannot be shown here
 * @param note why there is no body, or null
 */
public record BodyPreview(String body, String note) {

  /** For a delivery whose route is gone from the running configuration. */
  public static BodyPreview routeGone() {
    return new BodyPreview(null, "the route is no longer configured");
  }
}
