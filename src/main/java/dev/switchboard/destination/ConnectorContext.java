package dev.switchboard.destination;

import dev.switchboard.destination.http.HttpDestination;
import java.time.Clock;

/**
 * What the composition root hands every connector it builds.
 *
 * @param signer signs the {@code http} connector's requests when its {@code sign} is configured
 */
public record ConnectorContext(Clock clock, HttpDestination.Signer signer) {}
