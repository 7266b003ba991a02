package dev.switchboard.pull.genesys;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.PullConfig;
import dev.switchboard.store.EventStore;
import dev.switchboard.testing.MutableClock;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import org.junit.jupiter.api.Test;

class CoverageTest {
  private static final Instant START = Instant.parse("2026-12-07T10:00:00Z");
  private static final Duration OVERLAP = Duration.ofMinutes(1);

  private final MutableClock clock = new MutableClock(START);
  private final Queue<Runnable> backfillThread = new ArrayDeque<>();
  private final Queue<Runnable> keeper = new ArrayDeque<>();
  private volatile Instant saved;

  @Test
  void aBreakWhileAGapIsFilledIsFilledToo() {
    Instant stored = START.minus(Duration.ofMinutes(10));
    saved = stored;
    Coverage coverage = coverage();
    assertThat(coverage.load()).isEqualTo(stored);

    coverage.keep(true); // every channel connected at START: the gap up to START is filled
    assertThat(backfillThread).hasSize(1);

    clock.advance(Duration.ofSeconds(5));
    Instant broken = clock.instant();
    coverage.keep(false); // a socket drops while the backfill runs
    clock.advance(Duration.ofSeconds(5));
    coverage.keep(true); // and is connected again before it ends

    backfillThread.remove().run();
    keeper.remove().run();
    assertThat(coverage.coveredUntil()).isEqualTo(START);

    clock.advance(Duration.ofSeconds(5));
    coverage.keep(true);
    assertThat(coverage.coveredUntil()).isBeforeOrEqualTo(broken);
    assertThat(backfillThread).as("the second gap is filled").hasSize(1);
    assertThat(coverage.backfilling()).isTrue();
  }

  private Coverage coverage() {
    // a topic that is not backfilled: each backfill ingests nothing and ends at once
    PullConfig config =
        new PullConfig(
            URI.create("http://127.0.0.1:1/login"),
            URI.create("http://127.0.0.1:1/api"),
            "client",
            "secret",
            List.of("v2.users.u1.presence"),
            new PullConfig.Backfill(true, Duration.ofHours(4), OVERLAP),
            Duration.ofHours(20),
            Duration.ofSeconds(45),
            Duration.ofSeconds(95));
    Ingester ingester = new Ingester("genesys", (body, headers) -> null, clock, () -> false);
    Backfiller backfiller = new Backfiller(config, null, ingester, () -> false);
    return new Coverage(
        "genesys",
        config,
        store(),
        clock,
        ingester,
        backfiller,
        backfillThread::add,
        keeper::add,
        List::of);
  }

  /** The store's coverage only: nothing else is called. */
  private EventStore store() {
    return (EventStore)
        Proxy.newProxyInstance(
            EventStore.class.getClassLoader(),
            new Class<?>[] {EventStore.class},
            (proxy, method, args) ->
                switch (method.getName()) {
                  case "pullCoverage" -> Optional.ofNullable(saved);
                  case "savePullCoverage" -> {
                    saved = (Instant) args[1];
                    yield null;
                  }
                  default -> throw new UnsupportedOperationException(method.getName());
                });
  }
}
