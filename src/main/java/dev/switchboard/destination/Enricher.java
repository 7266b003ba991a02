package dev.switchboard.destination;

import java.net.URI;
import java.time.Duration;

/**
 * A read-only lookup a route makes before its transform ({@code enrich:} on a route): fetches one
 * record from a system of record, such as a conversation from the Genesys Cloud API when the
 * webhook carried only its id. Built once from its configuration; {@link #get} is called
 * concurrently from delivery attempts; never touches the store.
 *
 * <p>Like {@link Destination#send}, {@link #get} never throws for anything the remote side does: it
 * classifies the answer into a {@link Lookup}.
 */
public interface Enricher extends AutoCloseable {

  /**
   * Fetches one resource.
   *
   * @param path the API path, starting with {@code /}, as the route's {@code path} (or {@code get})
   *     made it: each value from the event already percent-encoded as one segment; for a route's
   *     {@code query:} (a {@code salesforce} enricher), {@code /query?q=} and the URL-encoded SOQL,
   *     each value from the event already bound as one SOQL literal
   */
  Lookup get(String path);

  /**
   * An enrichment's path under an enricher's base URL ({@code base} without a trailing slash).
   *
   * @throws IllegalArgumentException when the path does not start with a single {@code /} or is not
   *     a legal URI path; the message says which, for a {@link Lookup.Failed}
   */
  static URI under(URI base, String path) {
    if (path == null || !path.startsWith("/") || path.startsWith("//")) {
      throw new IllegalArgumentException("enrich path must start with a single /");
    }
    try {
      return URI.create(base + path);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("enrich path is not a legal URI path", e);
    }
  }

  /** The configured name, for logs; never a URL. */
  String name();

  @Override
  default void close() {}

  /** What a lookup came to. */
  sealed interface Lookup {
    /** The record, as parsed JSON (maps, lists, strings, numbers, booleans). */
    record Found(Object value) implements Lookup {}

    /**
     * Not now: rate limited, unavailable, or not there yet; the delivery is tried again later.
     *
     * @param retryAfter what the service asked for, or null
     */
    record RetryLater(String error, int status, Duration retryAfter) implements Lookup {}

    /** Refused for good (bad request, no permission): the delivery is dead-lettered. */
    record Failed(String error, int status) implements Lookup {}
  }
}
