package dev.switchboard.domain;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where a delivery is in its life. The allowed moves are this one table, drawn in
 * docs/delivery-states.md (a test keeps the two the same). The store's SQL takes from it the states
 * each of its writes may move a delivery from ({@link #movesInto}), so that a write never makes a
 * move the table does not allow. Ingest creates deliveries in {@link #PENDING}, or directly in
 * {@link #SKIPPED} (the route's filter does not match) or {@link #DEAD} (the filter failed), in the
 * event's transaction.
 */
public enum DeliveryState {
  /** Waiting to be claimed (new, reaped after a lost lease, or replayed). */
  PENDING,
  /** Claimed by a dispatcher under a lease; an attempt may be running. */
  IN_FLIGHT,
  /** The last attempt failed in a retryable way; claimable again at its next attempt time. */
  RETRY_SCHEDULED,
  /** The destination took it. Final, unless replayed. */
  DELIVERED,
  /** Dead letter: refused, out of attempts or age, or its transform failed. Final until replay. */
  DEAD,
  /** Not sent: filtered out, stale under per-key ordering, or discarded from the DLQ. Final. */
  SKIPPED;

  private static final Map<DeliveryState, Set<DeliveryState>> MOVES =
      new EnumMap<>(DeliveryState.class);

  static {
    // dead: never attempted, and held by its destination past its max_age
    MOVES.put(PENDING, EnumSet.of(IN_FLIGHT, DEAD));
    MOVES.put(IN_FLIGHT, EnumSet.of(DELIVERED, RETRY_SCHEDULED, DEAD, SKIPPED, PENDING));
    MOVES.put(RETRY_SCHEDULED, EnumSet.of(IN_FLIGHT));
    MOVES.put(DELIVERED, EnumSet.of(PENDING));
    MOVES.put(DEAD, EnumSet.of(PENDING, SKIPPED));
    MOVES.put(SKIPPED, EnumSet.noneOf(DeliveryState.class));
  }

  public boolean canMoveTo(DeliveryState next) {
    return MOVES.get(this).contains(next);
  }

  /** The states this one may move to. */
  public Set<DeliveryState> moves() {
    return Set.copyOf(MOVES.get(this));
  }

  /** The states that may move to {@code target}, in declaration order. */
  public static Set<DeliveryState> movesInto(DeliveryState target) {
    Set<DeliveryState> from = EnumSet.noneOf(DeliveryState.class);
    for (DeliveryState s : values()) {
      if (s.canMoveTo(target)) {
        from.add(s);
      }
    }
    return from;
  }

  /** Throws when {@code next} is not an allowed move from this state. */
  public DeliveryState requireMoveTo(DeliveryState next) {
    if (!canMoveTo(next)) {
      throw new IllegalStateException("a delivery cannot move from " + this + " to " + next);
    }
    return next;
  }

  /** No attempt will be made unless someone replays it. */
  public boolean isFinal() {
    return this == DELIVERED || this == DEAD || this == SKIPPED;
  }

  public String dbValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static DeliveryState fromDb(String value) {
    return valueOf(value.toUpperCase(Locale.ROOT));
  }
}
