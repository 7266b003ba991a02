package dev.switchboard.store.sql;

import dev.switchboard.domain.DeliveryState;
import java.util.EnumSet;
import java.util.Set;
import java.util.StringJoiner;

/**
 * The state conditions of the store's SQL, taken from {@link DeliveryState}'s table of moves rather
 * than written out: a write that moves deliveries to a state matches only rows in a state the table
 * lets move there ({@link #from}), narrowed to what the operation is for (a fenced outcome moves
 * only what is in flight). The store's statements are built from these once, when their class is
 * loaded; nothing here runs per request.
 */
final class DeliveryStateSql {
  private DeliveryStateSql() {}

  /** States in which a delivery can still be attempted: pending, in flight, retry scheduled. */
  static final Set<DeliveryState> UNFINISHED = unfinished();

  /** A state's stored value as an SQL literal. */
  static String literal(DeliveryState state) {
    return "'" + state.dbValue() + "'";
  }

  /** {@code column = 'x'}, or {@code column IN ('x', 'y')} for several states, in enum order. */
  static String in(String column, Set<DeliveryState> states) {
    if (states.isEmpty()) {
      throw new IllegalArgumentException("no state for " + column);
    }
    if (states.size() == 1) {
      return column + " = " + literal(states.iterator().next());
    }
    StringJoiner list = new StringJoiner(", ", column + " IN (", ")");
    for (DeliveryState s : DeliveryState.values()) {
      if (states.contains(s)) {
        list.add(literal(s));
      }
    }
    return list.toString();
  }

  /** {@code column = 'x'}. */
  static String is(String column, DeliveryState state) {
    return in(column, EnumSet.of(state));
  }

  /**
   * The states a write to {@code target} may take rows from: every state the table lets move to
   * {@code target}, or, when {@code only} names some, those of them (each must be such a state: a
   * write the table does not allow fails when its statement is built, at class load).
   */
  static Set<DeliveryState> sources(DeliveryState target, DeliveryState... only) {
    Set<DeliveryState> allowed = DeliveryState.movesInto(target);
    if (only.length == 0) {
      return allowed;
    }
    Set<DeliveryState> narrowed = EnumSet.noneOf(DeliveryState.class);
    for (DeliveryState s : only) {
      if (!allowed.contains(s)) {
        throw new IllegalStateException(
            "the store would move a delivery from "
                + s
                + " to "
                + target
                + ", which the table of"
                + " moves does not allow");
      }
      narrowed.add(s);
    }
    return narrowed;
  }

  /**
   * The condition of a move to {@code target}: {@code column IN (sources)} (see {@link #sources}).
   */
  static String from(String column, DeliveryState target, DeliveryState... only) {
    return in(column, sources(target, only));
  }

  /** {@code state = 'target'}, for a {@code SET} clause. */
  static String to(DeliveryState target) {
    return "state = " + literal(target);
  }

  private static Set<DeliveryState> unfinished() {
    Set<DeliveryState> states = EnumSet.noneOf(DeliveryState.class);
    for (DeliveryState s : DeliveryState.values()) {
      if (!s.isFinal()) {
        states.add(s);
      }
    }
    return states;
  }
}
