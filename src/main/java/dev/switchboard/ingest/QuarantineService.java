package dev.switchboard.ingest;

import dev.switchboard.domain.Event;
import dev.switchboard.domain.EventId;
import dev.switchboard.domain.EventStatus;
import dev.switchboard.store.EventPage;
import dev.switchboard.store.EventQuery;
import dev.switchboard.store.EventStore;
import dev.switchboard.store.EventSummary;
import dev.switchboard.store.PagePosition;
import dev.switchboard.store.QuarantineRelease;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releasing quarantined events, as a Java API beside {@code DeliveryService}'s replay: the admin
 * REST API, the dashboard and the CLI sit on top of it. A released event is checked again against
 * its source's schema as configured now; if it passes it gets its deliveries as if it had just
 * arrived (route filters decided then, the dispatcher handed the pending ones at once, or the other
 * nodes told, once committed); if not, it stays quarantined with the new reason. Each release is
 * one transaction that checks the event is still quarantined, so releasing twice, or twice at once,
 * creates the deliveries once.
 */
public final class QuarantineService {
  private static final Logger LOG = LoggerFactory.getLogger(QuarantineService.class);

  /** Events read per page while a bulk release walks its range. */
  private static final int PAGE = 200;

  private final IngestService ingest;
  private final EventStore store;
  private final Clock clock;

  public QuarantineService(IngestService ingest, EventStore store, Clock clock) {
    this.ingest = ingest;
    this.store = store;
    this.clock = clock;
  }

  /** What a release of one event came to. */
  public sealed interface Outcome {
    /** Accepted now, with this many deliveries (skipped ones included). */
    record Released(int deliveries) implements Outcome {}

    /** Still fails its source's schema; kept quarantined with this reason. */
    record StillQuarantined(String reason) implements Outcome {}

    /** Not released: not quarantined (any more), or its source is no longer configured. */
    record NotReleasable(String why) implements Outcome {}

    /** No event with this id. */
    record Unknown() implements Outcome {}
  }

  /** What a bulk release came to: the events it looked at and what became of them. */
  public record Bulk(long matched, long released, long stillQuarantined) {}

  /** Releases one event (see the class comment); {@code by} is who acts. */
  public Outcome release(EventId id, String by) {
    requireWho(by);
    Optional<Event> found = store.findEvent(id);
    if (found.isEmpty()) {
      return new Outcome.Unknown();
    }
    return release(found.get(), by);
  }

  private Outcome release(Event event, String by) {
    if (event.status() != EventStatus.QUARANTINED) {
      return new Outcome.NotReleasable("this event is " + event.status().dbValue());
    }
    Optional<QuarantineRelease> decided = ingest.decideRelease(event, by, clock.instant());
    if (decided.isEmpty()) {
      return new Outcome.NotReleasable("its source is no longer configured");
    }
    QuarantineRelease release = decided.get();
    if (!store.release(release)) {
      return new Outcome.NotReleasable("this event is no longer quarantined");
    }
    if (!release.passes()) {
      // the reason may quote the schema's terms: the log names the event only
      LOG.info("event {} stays quarantined after a release by {}", event.id().value(), by);
      return new Outcome.StillQuarantined(release.reason());
    }
    LOG.info(
        "event {} released by {} with {} delivery(ies)",
        event.id().value(),
        by,
        release.routes().size());
    return new Outcome.Released(release.routes().size());
  }

  /**
   * How many quarantined events a bulk release of {@code source} received in [{@code from}, {@code
   * to}) would look at (dry run); null bounds are open.
   */
  public long count(String source, Instant from, Instant to) {
    return store.countEvents(query(source, from, to, null));
  }

  /**
   * Releases every quarantined event of {@code source} received in [{@code from}, {@code to}), one
   * transaction each, newest first; those released meanwhile by someone else are not counted.
   */
  public Bulk releaseAll(String source, Instant from, Instant to, String by) {
    requireWho(by);
    long matched = 0;
    long released = 0;
    long still = 0;
    PagePosition after = null;
    do {
      EventPage page = store.searchEvents(query(source, from, to, after));
      for (EventSummary summary : page.events()) {
        Optional<Event> event = store.findEvent(summary.id());
        if (event.isEmpty()) {
          continue; // purged meanwhile
        }
        matched++;
        switch (release(event.get(), by)) {
          case Outcome.Released r -> released++;
          case Outcome.StillQuarantined s -> still++;
          case Outcome.NotReleasable n -> {}
          case Outcome.Unknown u -> {}
        }
      }
      after = page.next();
    } while (after != null);
    LOG.info(
        "bulk release of source {} by {}: {} released, {} still quarantined",
        source,
        by,
        released,
        still);
    return new Bulk(matched, released, still);
  }

  /** Whether a source of this name is configured now. */
  public boolean hasSource(String name) {
    return ingest.hasSource(name);
  }

  private static EventQuery query(String source, Instant from, Instant to, PagePosition after) {
    return new EventQuery(source, EventStatus.QUARANTINED, from, to, null, null, null, after, PAGE);
  }

  private static void requireWho(String by) {
    if (by == null || by.isBlank()) {
      throw new IllegalArgumentException("say who is acting (by)");
    }
  }
}
