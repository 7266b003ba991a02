package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only SQLite does: the size cap. The store's contract on every database is {@link
 * StoreContract}.
 */
class SqlEventStoreTest {
  @TempDir Path dir;
  final Instant now = Instant.parse("2026-10-27T14:30:00Z");

  NewEvent event(String key, String payload) {
    return new NewEvent(
        "src",
        key,
        now.plus(Duration.ofHours(48)),
        now,
        "p",
        now,
        payload,
        Map.of(),
        EventStatus.ACCEPTED,
        null,
        List.of(new NewEvent.RouteTarget("r", "d")));
  }

  @Test
  void writesPastTheSizeCapFailWithoutLeavingAnything() throws Exception {
    try (SqlEventStore store =
        SqlEventStore.open(new SqliteDialect(dir.resolve("b.db")), Clock.systemUTC(), n -> {})) {
      store.ingest(event("warm", "{}")).get();
      store.limitSize(1);
      String pad = "{\"pad\":\"" + "x".repeat(3000) + "\"}";
      int i = 0;
      Throwable failure = null;
      while (failure == null && i < 1000) {
        try {
          store.ingest(event("k" + i++, pad)).get();
        } catch (ExecutionException e) {
          failure = e.getCause();
        }
      }
      assertThat(failure).isNotNull();
      assertThat(store.isWritable()).isFalse();
      long stored = store.countEvents();
      store.limitSize(0);
      assertThat(store.ingest(event("k" + (i - 1), pad)).get())
          .isInstanceOf(IngestOutcome.Accepted.class);
      assertThat(store.countEvents()).isEqualTo(stored + 1);
      assertThat(store.isWritable()).isTrue();
    }
  }
}
