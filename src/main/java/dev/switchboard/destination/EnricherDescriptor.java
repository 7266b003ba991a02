package dev.switchboard.destination;

import dev.switchboard.config.EnricherConfig;
import dev.switchboard.config.EnricherSettings;
import dev.switchboard.config.EnricherType;

/**
 * One enricher, whole: its {@code type} name, its keys, their checks and its typed settings ({@link
 * EnricherType}), and how it is built. Listed once in {@link ConnectorTypes}.
 *
 * @param <S> the enricher's settings record
 */
public interface EnricherDescriptor<S extends EnricherSettings> extends EnricherType<S> {

  /**
   * Builds the enricher of a checked configuration of this type.
   *
   * <p>Lifecycle: called when the gateway starts, and on a reload for an enricher whose
   * configuration changed; the enricher is closed when it is replaced or the gateway stops.
   */
  Enricher create(EnricherConfig config, ConnectorContext context);
}
