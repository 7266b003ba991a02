package dev.switchboard.store;

import java.util.List;

/**
 * One page of an events search.
 *
 * @param next where the next page starts, or null when there is nothing more
 * @param scanLimited true when a text search stopped at its scan bound before filling the page:
 *     fewer rows than asked for, yet {@code next} continues further back
 */
public record EventPage(List<EventSummary> events, PagePosition next, boolean scanLimited) {
  public EventPage {
    events = List.copyOf(events);
  }
}
