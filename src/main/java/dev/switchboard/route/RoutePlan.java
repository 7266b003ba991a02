package dev.switchboard.route;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.RouteConfig;
import dev.switchboard.expr.ExpressionException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;

/**
 * What one route does to an event, built once from its configuration and used by both sides of the
 * store: ingest decides the filter ({@link #admitAtIngest}), unless the filter reads the
 * enrichment's result, which only the delivery has ({@link #admitsAfterEnrichment}); the delivery
 * makes the body ({@link #body}, {@link #transform}); the operator sees it made ({@link #preview}).
 *
 * <p>Failure policy: an evaluation that fails throws {@link ExpressionException}; a payload that is
 * not JSON, a transform that yields nothing or what is not JSON throws {@link
 * IllegalArgumentException}. Either fails the same way on every try, and the dispatcher tells them
 * from anything else by their type, never by their text.
 */
public final class RoutePlan {
  /** The error of a delivery its filter skipped. */
  static final String FILTERED = "filtered: when is false";

  /** The error of a delivery its second filter skipped, after the enrichment. */
  static final String FILTERED_ENRICHED = "filtered: when_enriched is false";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final RouteConfig route;

  public RoutePlan(RouteConfig route) {
    this.route = Objects.requireNonNull(route, "route");
  }

  public RouteConfig route() {
    return route;
  }

  public String name() {
    return route.name();
  }

  /** The destination's name. */
  public String to() {
    return route.to();
  }

  /**
   * Whether the filter is decided at ingest: there is one, and it does not read the enrichment's
   * result.
   */
  public boolean filtersAtIngest() {
    return route.when() != null && !route.whenNeedsEnrichment();
  }

  /**
   * Decides the route's delivery of an event at ingest, on the stored (redacted) body, so that one
   * that does not match is recorded skipped in the event's own transaction and costs the dispatcher
   * nothing, and one whose filter fails is recorded dead with the expression's error. A route
   * without a filter, or whose filter reads the enrichment's result, is pending: the latter is
   * decided at delivery ({@link #admitsAfterEnrichment}).
   *
   * @param bindings {@link Bindings#atIngest}; not read (may be null) unless {@link
   *     #filtersAtIngest}
   */
  public Admission admitAtIngest(Object body, Map<String, ?> bindings) {
    if (!filtersAtIngest()) {
      return Admission.PENDING;
    }
    try {
      return route.when().test(body, bindings) ? Admission.PENDING : Admission.FILTERED;
    } catch (ExpressionException e) {
      return Admission.filterFailed(e.getMessage());
    }
  }

  /**
   * At delivery, after the enrichment's result is bound: whether the delivery goes on. True when
   * the filter was decided at ingest (or there is none); a false answer skips the delivery with
   * {@link #skippedError()}.
   *
   * @throws ExpressionException when the filter fails
   */
  public boolean admitsAfterEnrichment(Object input, Map<String, ?> bindings) {
    return !route.whenNeedsEnrichment() || route.when().test(input, bindings);
  }

  /**
   * At delivery, after the enrichment's result is bound and {@link #admitsAfterEnrichment}: the
   * route's {@code when_enriched}, true when it has none; a false answer skips the delivery with
   * {@link #skippedWhenEnriched()}.
   *
   * @throws ExpressionException when the filter fails
   */
  public boolean admitsWhenEnriched(Object input, Map<String, ?> bindings) {
    return route.whenEnriched() == null || route.whenEnriched().test(input, bindings);
  }

  /** The error a delivery {@code when_enriched} skipped is recorded with. */
  public static String skippedWhenEnriched() {
    return FILTERED_ENRICHED;
  }

  /** The error a delivery skipped by its filter is recorded with, at ingest or at delivery. */
  public static String skippedError() {
    return FILTERED;
  }

  /**
   * The stored payload as the plain values expressions read.
   *
   * @throws IllegalArgumentException when it is not JSON
   */
  public static Object parsePayload(String payload) {
    try {
      return JSON.readValue(payload, Object.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "the stored payload is not JSON: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * The body a route without enrichment sends: the stored payload as it is, or the transform over
   * it (parsed only then).
   *
   * @throws IllegalArgumentException when the payload or the transform's result is not JSON, or the
   *     transform yields nothing
   * @throws ExpressionException when the transform fails
   */
  public byte[] body(StoredEvent event) {
    if (route.transform() == null) {
      return event.payload().getBytes(StandardCharsets.UTF_8);
    }
    return transform(event.payload(), parsePayload(event.payload()), event.bindings());
  }

  /**
   * The body made from a payload already parsed (the enrichment's input) with the bindings the
   * enrichment added to: the transform over it, or the stored payload as it is when there is none.
   *
   * @param payload the stored JSON text {@code input} was parsed from
   * @throws IllegalArgumentException when the transform yields nothing or what is not JSON
   * @throws ExpressionException when the transform fails
   */
  public byte[] transform(String payload, Object input, Map<String, ?> bindings) {
    if (route.transform() == null) {
      return payload.getBytes(StandardCharsets.UTF_8);
    }
    Object out = route.transform().evaluate(input, bindings);
    if (out == null) {
      throw new IllegalArgumentException("the transform produced nothing");
    }
    try {
      return JSON.writeValueAsBytes(out);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "the transform's result is not JSON: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * The body the route makes of the event with this configuration, for the operator; a route with
   * enrichment makes it only at delivery, from a lookup not repeated here.
   */
  public BodyPreview preview(StoredEvent event) {
    if (route.enrich() != null) {
      return new BodyPreview(
          null, "made at delivery time from the " + route.enrich().using() + " lookup");
    }
    try {
      return new BodyPreview(new String(body(event), StandardCharsets.UTF_8), null);
    } catch (RuntimeException e) {
      return new BodyPreview(null, "transform failed: " + e.getMessage());
    }
  }

  /** Same configuration, same plan: lets a reload keep what an unchanged route built. */
  @Override
  public boolean equals(Object other) {
    return other instanceof RoutePlan p && p.route.equals(route);
  }

  @Override
  public int hashCode() {
    return route.hashCode();
  }

  @Override
  public String toString() {
    return "RoutePlan[" + route.name() + "]";
  }
}
