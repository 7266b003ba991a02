package dev.switchboard.store;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * Which deliveries an operator action (replay, discard, count) applies to. Every field is optional
 * (null or empty = any); the fields that are set must all match.
 *
 * @param states the states to act on; empty means dead only
 * @param createdFrom inclusive lower bound of the delivery's creation (its event's arrival)
 * @param createdTo exclusive upper bound
 * @param errorClass e.g. http_4xx, http_5xx, timeout, connection, transform, max_age
 */
public record DeliveryFilter(
    List<DeliveryId> ids,
    String destination,
    String route,
    Set<DeliveryState> states,
    Instant createdFrom,
    Instant createdTo,
    String errorClass) {

  public DeliveryFilter {
    ids = ids == null ? List.of() : List.copyOf(ids);
    states = states == null || states.isEmpty() ? Set.of(DeliveryState.DEAD) : Set.copyOf(states);
  }

  /** Dead letters only, optionally narrowed by the builder methods below. */
  public static DeliveryFilter deadLetters() {
    return new DeliveryFilter(List.of(), null, null, Set.of(), null, null, null);
  }

  public static DeliveryFilter of(DeliveryId id, Set<DeliveryState> states) {
    return new DeliveryFilter(List.of(id), null, null, states, null, null, null);
  }

  public DeliveryFilter destination(String value) {
    return new DeliveryFilter(ids, value, route, states, createdFrom, createdTo, errorClass);
  }

  public DeliveryFilter route(String value) {
    return new DeliveryFilter(ids, destination, value, states, createdFrom, createdTo, errorClass);
  }

  public DeliveryFilter created(Instant from, Instant to) {
    return new DeliveryFilter(ids, destination, route, states, from, to, errorClass);
  }

  public DeliveryFilter errorClass(String value) {
    return new DeliveryFilter(ids, destination, route, states, createdFrom, createdTo, value);
  }
}
