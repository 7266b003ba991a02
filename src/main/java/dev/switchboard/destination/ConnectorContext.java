package dev.switchboard.destination;

import dev.switchboard.destination.http.HttpDestination;
import dev.switchboard.destination.http.OAuthSessions;
import java.time.Clock;

/**
 * What the composition root hands every connector it builds.
 *
 * @param signer signs the {@code http} connector's requests when its {@code sign} is configured
 * @param sessions the gateway's OAuth client-credentials tokens, one per client, shared by every
 *     destination and enricher that uses the same client
 */
public record ConnectorContext(Clock clock, HttpDestination.Signer signer, OAuthSessions sessions) {

  /** A context with its own sessions (tests, and tools that build one connector). */
  public ConnectorContext(Clock clock, HttpDestination.Signer signer) {
    this(clock, signer, new OAuthSessions(clock));
  }
}
