package dev.switchboard.dispatch;

import static dev.switchboard.dispatch.CoreFixtures.ORDERED;
import static dev.switchboard.dispatch.CoreFixtures.PLAIN;
import static dev.switchboard.dispatch.CoreFixtures.T0;
import static dev.switchboard.dispatch.CoreFixtures.pending;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.EnrichPath;
import dev.switchboard.config.RouteConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.Enricher;
import dev.switchboard.store.Finish;
import dev.switchboard.store.QueuedDelivery;
import dev.switchboard.testing.FakeDeliveryQueue;
import dev.switchboard.testing.MutableClock;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * One attempt's steps on claimed deliveries, with a scripted connector: the stale check, prepare
 * (enrich, filter, transform), one request for all, and what failures become.
 */
class AttemptTest {
  final MutableClock clock = new MutableClock(T0);
  final FakeDeliveryQueue queue = new FakeDeliveryQueue(true);
  final Watermarks watermarks = new Watermarks(queue);
  final CoreFixtures.Lane fixture = new CoreFixtures.Lane(clock);
  final CoreFixtures.Connector connector = new CoreFixtures.Connector(3);

  AttemptTest() {
    fixture.connector = connector;
  }

  Attempt attempt(RouteTable table, boolean sharedStore) {
    return new Attempt(clock, () -> table, watermarks, sharedStore, fixture.build(), connector);
  }

  static Claimed claimedOne(RouteTable table, QueuedDelivery d) {
    return new Claimed(d, table.plan(d.route()), "t-" + d.id().value(), T0, null);
  }

  static List<Claimed> claimed(RouteTable table, QueuedDelivery... ds) {
    return Stream.of(ds).map(d -> claimedOne(table, d)).toList();
  }

  // ---------------------------------------------------------------- stale

  @Test
  void anEventOlderThanTheKeysWatermarkIsSkippedUnsent() {
    RouteTable table = CoreFixtures.table();
    watermarks.remember(new RouteKey(ORDERED, "k"), T0.plusSeconds(10));
    QueuedDelivery old = pending("old", ORDERED, "k", 5, 1);
    QueuedDelivery same = pending("same", ORDERED, "k", 10, 2);
    List<Attempted> done = attempt(table, false).run(claimed(table, old, same));
    assertThat(done.get(0).result()).isNull();
    assertThat(done.get(0).finish())
        .isEqualTo(
            new Finish.Skipped(
                old.id(),
                "t-old",
                "stale: an event of 2026-12-07T10:00:10Z was already delivered for this key"));
    assertThat(done.get(1).finish()).isInstanceOf(Finish.Delivered.class);
    assertThat(connector.sent).extracting(o -> o.deliveryId()).containsExactly("same");
  }

  @Test
  void onASharedStoreTheStoredWatermarkIsReadWhenMemorysIsNotNewer() {
    RouteTable table = CoreFixtures.table();
    watermarks.remember(new RouteKey(ORDERED, "k"), T0.plusSeconds(1));
    queue.watermark(ORDERED, "k", T0.plusSeconds(10)); // another node delivered a newer one
    QueuedDelivery d = pending("d", ORDERED, "k", 5, 1);
    assertThat(attempt(table, false).run(claimed(table, d)).get(0).finish())
        .as("alone, memory knows")
        .isInstanceOf(Finish.Delivered.class);
    assertThat(attempt(table, true).run(claimed(table, d)).get(0).finish())
        .isInstanceOf(Finish.Skipped.class);
  }

  @Test
  void aPlainRouteIsNeverStale() {
    RouteTable table = CoreFixtures.table();
    watermarks.remember(new RouteKey(PLAIN, "k"), T0.plusSeconds(10));
    QueuedDelivery d = pending("d", PLAIN, "k", 5, 1);
    assertThat(attempt(table, false).run(claimed(table, d)).get(0).finish())
        .isInstanceOf(Finish.Delivered.class);
  }

  // ---------------------------------------------------------------- prepare

  @Test
  void aDeliveryWhoseRouteIsGoneIsDeadWithTheClassConfig() {
    RouteTable table = CoreFixtures.table();
    QueuedDelivery d = pending("d", "gone", null, 0, 1);
    List<Attempted> done = attempt(table, false).run(claimed(table, d));
    assertThat(done.get(0).finish())
        .isEqualTo(
            new Finish.Dead(d.id(), "t-d", null, "route gone is no longer configured", "config"));
    assertThat(connector.sent).isEmpty();
  }

  @Test
  void aTransformThatFailsIsDeadAtOnceWithoutARequest() {
    RouteTable table =
        new RouteTable(
            Map.of(
                "broken",
                CoreFixtures.route(
                    "broken",
                    RouteConfig.Ordering.NONE,
                    RouteConfig.Stale.DELIVER,
                    "{ \"n\": interactionId + 1 }",
                    null)),
            Map.of());
    QueuedDelivery d =
        CoreFixtures.delivery(
            "d", "broken", null, 0, 1, dev.switchboard.domain.DeliveryState.RETRY_SCHEDULED, T0, 2);
    Attempted done = attempt(table, false).run(claimed(table, d)).get(0);
    assertThat(done.result()).isNull();
    assertThat(done.finish())
        .isInstanceOfSatisfying(
            Finish.Dead.class,
            dead -> {
              assertThat(dead.error()).startsWith("transform failed:");
              assertThat(dead.errorClass()).isEqualTo("transform");
              assertThat(dead.attempt().number()).isEqualTo(3);
              assertThat(dead.attempt().status()).isZero();
              assertThat(dead.attempt().outcome()).isEqualTo("dead");
              assertThat(dead.attempt().error()).isEqualTo(dead.error());
            });
    assertThat(connector.sent).isEmpty();
  }

  static final RouteConfig.Enrich DETAILS =
      new RouteConfig.Enrich("genesys", EnrichPath.template("/calls/{interactionId}"), "details");

  RouteTable enriching(Enricher enricher) {
    return new RouteTable(
        Map.of(
            "enriched",
            CoreFixtures.route(
                "enriched", RouteConfig.Ordering.NONE, RouteConfig.Stale.DELIVER, null, DETAILS)),
        Map.of("genesys", enricher));
  }

  record ScriptedEnricher(Enricher.Lookup answer, RuntimeException failure) implements Enricher {
    @Override
    public Lookup get(String path) {
      if (failure != null) {
        throw failure;
      }
      return answer;
    }

    @Override
    public String name() {
      return "genesys";
    }
  }

  @Test
  void anEnricherThatThrowsIsRetriedAsAnInternalError() {
    RouteTable table =
        enriching(new ScriptedEnricher(null, new IllegalStateException("bug with a secret")));
    QueuedDelivery d = pending("d", "enriched", null, 0, 1);
    Attempted done = attempt(table, false).run(claimed(table, d)).get(0);
    assertThat(done.result()).as("no request").isNull();
    assertThat(done.finish())
        .isInstanceOfSatisfying(
            Finish.Retry.class,
            retry -> {
              assertThat(retry.attempt().error())
                  .isEqualTo("internal error in enrich: IllegalStateException");
              assertThat(retry.errorClass()).isEqualTo("internal");
              assertThat(retry.attempt().number()).isEqualTo(1);
            });
    assertThat(connector.sent).isEmpty();
  }

  @Test
  void anEnrichersAnswerDecidesBeforeAnyRequest() {
    QueuedDelivery d = pending("d", "enriched", null, 0, 1);
    RouteTable later =
        enriching(
            new ScriptedEnricher(new Enricher.Lookup.RetryLater("http 429", 429, null), null));
    assertThat(attempt(later, false).run(claimed(later, d)).get(0).finish())
        .isInstanceOfSatisfying(
            Finish.Retry.class, r -> assertThat(r.attempt().error()).isEqualTo("enrich: http 429"));
    RouteTable failed =
        enriching(new ScriptedEnricher(new Enricher.Lookup.Failed("http 403", 403), null));
    assertThat(attempt(failed, false).run(claimed(failed, d)).get(0).finish())
        .isInstanceOfSatisfying(
            Finish.Dead.class,
            x -> {
              assertThat(x.error()).isEqualTo("enrich failed: http 403");
              assertThat(x.errorClass()).isEqualTo("enrich");
            });
    assertThat(connector.sent).isEmpty();
    RouteTable found =
        enriching(new ScriptedEnricher(new Enricher.Lookup.Found(Map.of("wrapUp", "SALE")), null));
    assertThat(attempt(found, false).run(claimed(found, d)).get(0).finish())
        .isInstanceOf(Finish.Delivered.class);
    assertThat(connector.sent).hasSize(1);
  }

  // ---------------------------------------------------------------- the request

  @Test
  void aConnectorThatThrowsRetriesEveryDeliveryOfItsBatch() {
    RouteTable table = CoreFixtures.table();
    connector.failure = new IllegalStateException("bug");
    List<Attempted> done =
        attempt(table, false)
            .run(
                claimed(
                    table,
                    pending("a", PLAIN, null, 0, 1),
                    pending("b", PLAIN, null, 0, 2),
                    pending("c", PLAIN, null, 0, 3)));
    assertThat(connector.requests).as("one request").containsExactly(3);
    assertThat(done)
        .hasSize(3)
        .allSatisfy(
            a -> {
              assertThat(a.result())
                  .isEqualTo(
                      new DeliveryResult.RetryLater(
                          "connector error: IllegalStateException", 0, null, null));
              assertThat(a.finish())
                  .isInstanceOfSatisfying(
                      Finish.Retry.class, r -> assertThat(r.errorClass()).isEqualTo("error"));
            });
    assertThat(Verdicts.signal(done)).isInstanceOf(DeliveryResult.RetryLater.class);
  }

  @Test
  void eachDeliveryOfABatchGetsItsOwnOutcomeInOrder() {
    RouteTable table = CoreFixtures.table();
    connector.answer(
        new DeliveryResult.Delivered(201, null),
        new DeliveryResult.Rejected("http 400", 400, null),
        new DeliveryResult.RetryLater("http 503", 503, null, null));
    QueuedDelivery a = pending("a", PLAIN, null, 0, 1);
    QueuedDelivery b = pending("b", PLAIN, null, 0, 2);
    QueuedDelivery c = pending("c", PLAIN, null, 0, 3);
    List<Attempted> done = attempt(table, false).run(claimed(table, a, b, c));
    assertThat(done)
        .extracting(x -> x.finish().getClass().getSimpleName())
        .containsExactly("Delivered", "Dead", "Retry");
    assertThat(done).extracting(x -> x.finish().id()).containsExactly(a.id(), b.id(), c.id());
    assertThat(connector.sent)
        .extracting(o -> o.idempotencyKey() + "#" + o.attempt())
        .containsExactly("a#1", "b#1", "c#1");
  }
}
