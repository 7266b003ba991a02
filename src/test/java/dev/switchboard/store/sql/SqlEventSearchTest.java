package dev.switchboard.store.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.domain.DeliveryId;
import dev.switchboard.domain.DeliveryState;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.DeliveryFilter;
import dev.switchboard.store.DeliveryRecord;
import dev.switchboard.store.EventPage;
import dev.switchboard.store.EventQuery;
import dev.switchboard.store.EventSummary;
import dev.switchboard.store.IngestOutcome;
import dev.switchboard.store.NewEvent;
import dev.switchboard.store.PagePosition;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin searches on a real SQLite file: keyset paging with ties in time, each filter, the
 * bounded text scan, and query plans that use an index for every filter.
 */
class SqlEventSearchTest {
  static final Instant BASE = Instant.parse("2026-10-27T14:00:00Z");
  static final int EVENTS = 300;

  @TempDir Path dir;
  SqlEventStore store;
  Connection raw;

  @BeforeEach
  void open() throws Exception {
    store = SqlEventStore.open(new SqliteDialect(dir.resolve("s.db")), Clock.systemUTC(), n -> {});
    List<CompletableFuture<IngestOutcome>> writes = new ArrayList<>();
    for (int i = 0; i < EVENTS; i++) {
      // three events share each receive time, so paging must break ties by id
      Instant at = BASE.plusSeconds(i / 3);
      String payload =
          "{\"n\":" + i + (i % 10 == 7 ? ",\"note\":\"Needle_%\"" : ",\"note\":\"hay\"") + "}";
      writes.add(
          store.ingest(
              new NewEvent(
                  i % 2 == 0 ? "calls" : "forms",
                  "k-" + i,
                  at.plus(Duration.ofDays(2)),
                  at,
                  "p-" + (i % 5),
                  at,
                  payload,
                  Map.of(),
                  i % 25 == 0 ? EventStatus.QUARANTINED : EventStatus.ACCEPTED,
                  i % 25 == 0 ? "schema" : null,
                  i % 25 == 0
                      ? List.of()
                      : List.of(
                          new NewEvent.RouteTarget(
                              "r", i % 3 == 0 ? "crm" : "ops", DeliveryState.DEAD, "failed")))));
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get();
    raw = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("s.db"));
  }

  @AfterEach
  void close() throws Exception {
    raw.close();
    store.close();
  }

  static EventQuery query(String source, String partitionKey, String text, int limit) {
    return new EventQuery(source, null, null, null, partitionKey, null, text, null, limit);
  }

  List<EventSummary> all(EventQuery first) {
    List<EventSummary> seen = new ArrayList<>();
    EventQuery q = first;
    while (true) {
      EventPage page = store.searchEvents(q);
      seen.addAll(page.events());
      if (page.next() == null) {
        return seen;
      }
      q =
          new EventQuery(
              q.source(),
              q.status(),
              q.receivedFrom(),
              q.receivedTo(),
              q.partitionKey(),
              q.idempotencyKey(),
              q.text(),
              page.next(),
              q.limit());
    }
  }

  @Test
  void pagingVisitsEveryEventOnceNewestFirstEvenWhenTimesTie() {
    List<EventSummary> seen = all(query(null, null, null, 7));
    assertThat(seen).hasSize(EVENTS);
    assertThat(seen.stream().map(e -> e.id().value()).distinct()).hasSize(EVENTS);
    assertThat(seen)
        .isSortedAccordingTo(
            Comparator.comparing(EventSummary::receivedAt)
                .thenComparing(e -> e.id().value())
                .reversed());
  }

  @Test
  void filtersCombineAndCountDeliveriesByState() {
    List<EventSummary> seen = all(query("calls", "p-2", null, 4));
    // even n with n % 5 == 2: 2, 12, 22, …, 292
    assertThat(seen).hasSize(30).allMatch(e -> e.source().equals("calls"));
    assertThat(seen).allMatch(e -> e.partitionKey().equals("p-2"));
    EventSummary one = seen.get(0);
    assertThat(one.deliveries()).containsExactly(Map.entry(DeliveryState.DEAD, 1));
    List<EventSummary> quarantined =
        all(new EventQuery(null, EventStatus.QUARANTINED, null, null, null, null, null, null, 50));
    assertThat(quarantined).hasSize(EVENTS / 25).allMatch(e -> e.deliveries().isEmpty());
    List<EventSummary> byKey =
        all(new EventQuery(null, null, null, null, null, "k-123", null, null, 50));
    assertThat(byKey).singleElement().satisfies(e -> assertThat(e.source()).isEqualTo("forms"));
    List<EventSummary> inRange =
        all(
            new EventQuery(
                null, null, BASE.plusSeconds(10), BASE.plusSeconds(20), null, null, null, null, 8));
    assertThat(inRange).hasSize(30); // seconds 10..19, three events each
  }

  @Test
  void textMatchesCaseInsensitivelyAndTakesWildcardsLiterally() {
    assertThat(all(query(null, null, "needle_%", 50))).hasSize(EVENTS / 10);
    assertThat(all(query(null, null, "NEEDLE", 50))).hasSize(EVENTS / 10);
    assertThat(all(query(null, null, "needle_x", 50))).isEmpty();
    assertThat(all(query(null, null, "%", 50))).hasSize(EVENTS / 10); // only the literal %
  }

  @Test
  void aTextSearchStopsAtItsScanBoundAndGoesOnFromThere() throws Exception {
    EventQuery q = query(null, null, "needle", 100);
    EventPage first = SqlEventSearch.run(raw, q, 50);
    // the newest 50 rows hold 5 needles (n % 10 == 7 among n = 250..299)
    assertThat(first.events()).hasSize(5);
    assertThat(first.scanLimited()).isTrue();
    assertThat(first.next()).isNotNull();
    List<EventSummary> seen = new ArrayList<>(first.events());
    EventPage page = first;
    while (page.next() != null) {
      page =
          SqlEventSearch.run(
              raw,
              new EventQuery(null, null, null, null, null, null, "needle", page.next(), 100),
              50);
      seen.addAll(page.events());
    }
    assertThat(seen.stream().map(e -> e.id().value()).distinct()).hasSize(EVENTS / 10);
  }

  @Test
  void deadLettersPageNewestFirstAndFilterByDestination() {
    List<DeliveryRecord> seen = new ArrayList<>();
    PagePosition after = null;
    do {
      List<DeliveryRecord> page =
          store
              .deliveries()
              .findDeliveries(DeliveryFilter.deadLetters().destination("crm"), after, 9);
      seen.addAll(page);
      after =
          page.size() < 9
              ? null
              : new PagePosition(page.get(8).createdAt(), page.get(8).id().value());
    } while (after != null);
    long expected =
        java.util.stream.IntStream.range(0, EVENTS).filter(i -> i % 25 != 0 && i % 3 == 0).count();
    assertThat(seen).hasSize((int) expected).allMatch(d -> d.destination().equals("crm"));
    assertThat(seen.stream().map(DeliveryRecord::id).map(DeliveryId::value).distinct())
        .hasSize((int) expected);
    assertThat(store.deliveries().countOpen("crm"))
        .containsEntry(DeliveryState.DEAD, expected)
        .containsEntry(DeliveryState.PENDING, 0L);
  }

  @Test
  void everySearchFilterIsServedByAnIndex() throws Exception {
    PagePosition after = new PagePosition(BASE.plusSeconds(50), "evt_" + "f".repeat(32));
    List<EventQuery> queries =
        List.of(
            query(null, null, null, 50),
            new EventQuery(null, null, null, null, null, null, null, after, 50),
            query("calls", null, null, 50),
            new EventQuery("calls", null, null, null, null, null, null, after, 50),
            new EventQuery(null, EventStatus.QUARANTINED, null, null, null, null, null, after, 50),
            new EventQuery(null, null, BASE, BASE.plusSeconds(60), null, null, null, null, 50),
            new EventQuery(null, null, null, null, "p-1", null, null, after, 50),
            new EventQuery(null, null, null, null, null, "k-1", null, null, 50),
            query(null, null, "needle", 50));
    for (EventQuery q : queries) {
      assertIndexed(SqlEventSearch.page(q, null), "events");
      if (q.text() != null) {
        assertIndexed(SqlEventSearch.horizon(q, 50), "events");
      }
    }
    for (DeliveryFilter f :
        List.of(DeliveryFilter.deadLetters(), DeliveryFilter.deadLetters().destination("crm"))) {
      FilterSql where = FilterSql.of(f, DeliveryState.values());
      List<Object> params = new ArrayList<>(where.params());
      params.addAll(List.of(1L, 1L, "dlv_" + "f".repeat(32), 10));
      assertIndexed(
          new SqlEventSearch.Built(SqlDeliveryReads.findDeliveriesSql(where, true), params),
          "deliveries");
    }
    assertIndexed(
        new SqlEventSearch.Built(SqlDeliveryReads.COUNT_OPEN, List.of("crm")), "deliveries");
  }

  /** No full scan of the table and no sort of every match: an index serves the order. */
  void assertIndexed(SqlEventSearch.Built built, String table) throws Exception {
    List<String> plan = new ArrayList<>();
    try (PreparedStatement ps = raw.prepareStatement("EXPLAIN QUERY PLAN " + built.sql())) {
      built.bind(ps);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          plan.add(rs.getString("detail"));
        }
      }
    }
    assertThat(plan)
        .as(built.sql())
        .noneMatch(line -> line.equals("SCAN " + table))
        .noneMatch(line -> line.startsWith("USE TEMP B-TREE FOR ORDER BY"))
        .anyMatch(line -> line.contains("INDEX"));
  }
}
