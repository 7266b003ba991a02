package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.AttemptRecord;
import dev.switchboard.store.NewEvent;
import dev.switchboard.store.QueuedDelivery;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only SQLite does: at start every lease is a leftover of a dead run. The queue's contract on
 * every database is {@link StoreContract}.
 */
class SqlDeliveryQueueTest {
  @TempDir Path dir;
  final Instant now = Instant.parse("2026-10-27T14:30:00Z");

  NewEvent event(String key, Instant eventTime, List<NewEvent.RouteTarget> routes) {
    return new NewEvent(
        "src",
        key,
        now.plus(Duration.ofHours(48)),
        eventTime,
        "p",
        now,
        "{\"k\":\"" + key + "\"}",
        Map.of(),
        EventStatus.ACCEPTED,
        null,
        routes);
  }

  SqlEventStore open(String name) throws Exception {
    return SqlEventStore.open(new SqliteDialect(dir.resolve(name)), Clock.systemUTC(), n -> {});
  }

  static AttemptRecord attempt(int status) {
    return new AttemptRecord(1, Instant.EPOCH, Duration.ofMillis(3), status, "x", null, null);
  }

  @Test
  void reapAllReturnsEveryLeaseOfAPreviousRun() throws Exception {
    List<QueuedDelivery> handed = new CopyOnWriteArrayList<>();
    try (SqlEventStore store = open("c.db")) {
      store.deliveries().onCommitted(handed::addAll);
      for (int i = 0; i < 3; i++) {
        store.ingest(event("k" + i, now, List.of(new NewEvent.RouteTarget("r", "d")))).get();
      }
      for (QueuedDelivery d : handed) {
        store.deliveries().claim(d.id(), "old", now, now.plusSeconds(3600)).get();
      }
    }
    try (SqlEventStore store = open("c.db")) {
      assertThat(store.deliveries().reapAll()).isEqualTo(3);
      assertThat(store.deliveries().countByState(null)).containsEntry(DeliveryState.PENDING, 3L);
      assertThat(store.countUnfinishedDeliveries()).isEqualTo(3);
    }
  }
}
