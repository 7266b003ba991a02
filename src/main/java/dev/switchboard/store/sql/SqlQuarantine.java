package dev.switchboard.store.sql;

import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.EventStore;
import dev.switchboard.store.NewEvent;
import dev.switchboard.store.QuarantineRelease;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * The release of a quarantined event, for {@link SqlEventStore}: accepted with its deliveries
 * created now (through {@link SqlIngest}), or kept quarantined with a new reason, in one writer op.
 */
final class SqlQuarantine {
  private final SqlWriter writer;
  private final SqlIngest ingest;

  SqlQuarantine(SqlWriter writer, SqlIngest ingest) {
    this.writer = writer;
    this.ingest = ingest;
  }

  boolean release(QuarantineRelease release) {
    return (Boolean) SqlEventStore.await(writer.submit(new ReleaseOp(this, release)));
  }

  /**
   * A release locks its event's row: keyed by the event, so that on a shared database two nodes'
   * batches releasing the same events take their locks in one order and wait rather than deadlock.
   */
  private record ReleaseOp(SqlQuarantine quarantine, QuarantineRelease release)
      implements SqlWriter.KeyedOp {
    @Override
    public Object apply(SqlWriter.Context ctx) throws SQLException {
      return quarantine.writeRelease(release, ctx);
    }

    @Override
    public String lockKey() {
      return "release\n" + release.event().value();
    }
  }

  /**
   * One release (see {@link EventStore#release}): the state check is the {@code UPDATE}'s own
   * condition, so a second release of the same event, here or on another node (whose update waits
   * for this row's lock, then finds it accepted), changes nothing and creates no delivery.
   */
  private boolean writeRelease(QuarantineRelease r, SqlWriter.Context ctx) throws SQLException {
    if (!r.passes()) {
      PreparedStatement keep = ctx.statement(SqlText.KEEP_QUARANTINED);
      keep.setString(1, r.reason());
      keep.setString(2, r.event().value());
      return keep.executeUpdate() == 1;
    }
    PreparedStatement accept = ctx.statement(SqlText.RELEASE_EVENT);
    accept.setString(1, r.by());
    accept.setLong(2, r.at().toEpochMilli());
    if (r.payload() == null) {
      accept.setNull(3, java.sql.Types.VARCHAR);
    } else {
      accept.setString(3, r.payload());
    }
    accept.setString(4, r.event().value());
    if (accept.executeUpdate() == 0) {
      return false;
    }
    PreparedStatement read = ctx.statement(SqlText.SELECT_EVENT + " WHERE id = ?");
    read.setString(1, r.event().value());
    Event e = SqlEventStore.mapEvents(read).get(0);
    // its deliveries as at ingest, created now (their arrival order is the release's); per-key
    // ordering still goes by the event's own event time, as for any late arrival
    ingest.addDeliveries(
        new NewEvent(
            e.source(),
            null,
            null,
            e.eventTime(),
            e.partitionKey(),
            r.at(),
            e.payload(),
            e.headers(),
            EventStatus.ACCEPTED,
            null,
            r.routes()),
        e.id(),
        e.receivedAt(),
        ctx);
    return true;
  }
}
