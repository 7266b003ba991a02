package dev.switchboard.store.sql;

import dev.switchboard.domain.DeliveryState;
import dev.switchboard.store.QueuedDelivery;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Cluster mode's claim, for {@link SqlDeliveryQueue}: a batch of a destination's due deliveries in
 * one statement, on the claims writer (a connection of its own), with per-key ordering kept across
 * the nodes by transaction-scoped key locks. The statements are the dialect's ({@link
 * Dialect#lockKeys}, {@link Dialect#claimDue}); this class binds and runs them.
 */
final class SqlClusterClaims {
  /** One arm per state a claim takes (see {@link Dialect#claimDue}). */
  private static final int ARMS = DeliveryStateSql.sources(DeliveryState.IN_FLIGHT).size();

  private final SqlWriter claims;
  private final String lockKeys;
  private final String claimDue;

  /** The claim of a destination without per-key routes, or null to use {@link #claimDue}. */
  private final String claimDueUnordered;

  SqlClusterClaims(SqlWriter claims) {
    this.claims = claims;
    this.lockKeys = claims.dialect().lockKeys();
    this.claimDue = claims.dialect().claimDue();
    this.claimDueUnordered = claims.dialect().claimDueUnordered();
  }

  CompletableFuture<List<QueuedDelivery>> claimDue(
      String destination,
      java.util.Set<String> perKeyRoutes,
      java.util.Set<String> blockingRoutes,
      java.util.Set<String> heldRoutes,
      int limit,
      String token,
      Instant now,
      Instant leaseUntil) {
    long at = now.toEpochMilli();
    return claims
        .submit(
            ctx -> {
              java.sql.Connection c = ctx.connection();
              java.sql.Array perKey = c.createArrayOf("text", perKeyRoutes.toArray());
              java.sql.Array blocking = c.createArrayOf("text", blockingRoutes.toArray());
              List<String> lockedRoutes = new ArrayList<>();
              List<String> lockedKeys = new ArrayList<>();
              if (!perKeyRoutes.isEmpty()) {
                PreparedStatement lock = ctx.statement(lockKeys);
                int i = 1;
                for (int arm = 0; arm < ARMS; arm++) {
                  lock.setString(i++, destination);
                  lock.setLong(i++, at);
                  lock.setArray(i++, perKey);
                  lock.setArray(i++, blocking);
                  lock.setInt(i++, limit);
                }
                lock.setInt(i, limit);
                try (ResultSet rs = lock.executeQuery()) {
                  while (rs.next()) {
                    lockedRoutes.add(rs.getString(1));
                    lockedKeys.add(rs.getString(2));
                  }
                }
              }
              java.sql.Array held = c.createArrayOf("text", heldRoutes.toArray());
              // without per-key routes the cheaper claim, whose arms take no per-key arrays
              boolean unordered = perKeyRoutes.isEmpty() && claimDueUnordered != null;
              java.sql.Array routesLocked =
                  unordered ? null : c.createArrayOf("text", lockedRoutes.toArray());
              java.sql.Array keysLocked =
                  unordered ? null : c.createArrayOf("text", lockedKeys.toArray());
              PreparedStatement ps = ctx.statement(unordered ? claimDueUnordered : claimDue);
              ps.setString(1, token);
              ps.setLong(2, leaseUntil.toEpochMilli());
              ps.setLong(3, at);
              ps.setLong(4, at);
              int i = 5;
              for (int arm = 0; arm < ARMS; arm++) {
                ps.setString(i++, destination);
                ps.setLong(i++, at);
                ps.setString(i++, destination); // its pause
                ps.setArray(i++, held);
                if (!unordered) {
                  ps.setArray(i++, perKey);
                  ps.setArray(i++, routesLocked);
                  ps.setArray(i++, keysLocked);
                  ps.setArray(i++, blocking);
                }
                ps.setInt(i++, limit);
              }
              ps.setInt(i, limit);
              return SqlDeliveryReads.mapQueued(ps);
            })
        .thenApply(
            result -> {
              @SuppressWarnings("unchecked")
              List<QueuedDelivery> claimed = (List<QueuedDelivery>) result;
              return claimed;
            });
  }
}
