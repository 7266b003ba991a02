package dev.switchboard.store.sql;

import dev.switchboard.domain.DeliveryState;
import dev.switchboard.store.DeliveryFilter;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** A {@link DeliveryFilter} as a WHERE clause and its parameters. */
record FilterSql(String sql, List<Object> params) {
  static FilterSql of(DeliveryFilter f, DeliveryState... allowed) {
    return of(f, Set.of(allowed));
  }

  /** {@code f} over the deliveries in {@code allowed} only (what the operation may touch). */
  static FilterSql of(DeliveryFilter f, Set<DeliveryState> allowed) {
    StringBuilder sql = new StringBuilder(" WHERE 1 = 1");
    List<Object> params = new ArrayList<>();
    if (!f.ids().isEmpty()) {
      sql.append(" AND id IN (").append("?, ".repeat(f.ids().size() - 1)).append("?)");
      f.ids().forEach(id -> params.add(id.value()));
    }
    if (f.destination() != null) {
      sql.append(" AND destination = ?");
      params.add(f.destination());
    }
    if (f.route() != null) {
      sql.append(" AND route = ?");
      params.add(f.route());
    }
    // States are written as literals (they come from the enum, never from a request), so the
    // planner can use the partial index on dead letters (V3__admin_indexes.sql).
    Set<DeliveryState> states = EnumSet.noneOf(DeliveryState.class);
    for (DeliveryState s : DeliveryState.values()) {
      if (f.states().contains(s) && allowed.contains(s)) {
        states.add(s);
      }
    }
    if (states.isEmpty()) {
      sql.append(" AND 1 = 0");
    } else {
      sql.append(" AND ").append(DeliveryStateSql.in("state", states));
    }
    if (f.createdFrom() != null) {
      sql.append(" AND created_at >= ?");
      params.add(f.createdFrom().toEpochMilli());
    }
    if (f.createdTo() != null) {
      sql.append(" AND created_at < ?");
      params.add(f.createdTo().toEpochMilli());
    }
    if (f.errorClass() != null) {
      sql.append(" AND error_class = ?");
      params.add(f.errorClass());
    }
    return new FilterSql(sql.toString(), params);
  }

  void bind(PreparedStatement ps, int from) throws SQLException {
    for (int i = 0; i < params.size(); i++) {
      ps.setObject(from + i, params.get(i));
    }
  }
}
