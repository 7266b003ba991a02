package dev.switchboard.config;

import java.util.List;

/**
 * One enricher type as the configuration sees it ({@code enrichers.<name>}): its {@code type} name,
 * its own keys, and how they are checked and typed. Implemented once, beside the enricher ({@code
 * destination/<type>/}), and listed in {@link ConnectorCatalog}.
 *
 * <p>Lifecycle: as {@link ConnectorType#read}: called once per enricher while a file is loaded,
 * reporting every problem on the reader and never throwing for a bad value.
 *
 * @param <S> the typed settings
 */
public interface EnricherType<S extends EnricherSettings> {

  /** The name written after {@code type:}. */
  String name();

  /** The enricher's own keys, beyond {@code type} and {@code rate_limit}. */
  List<String> keys();

  /**
   * Checks the enricher's keys and types them.
   *
   * @return the settings, or null when a problem was reported (the file is then refused)
   */
  S read(SettingsReader node);

  /**
   * The base URL of the API the enricher reads, as written, which a route's absolute enrichment
   * path must be under; null when the keys do not say. Asked even of an enricher with other
   * problems, so that its routes are checked too.
   */
  String apiUrl(SettingsReader node);

  /**
   * The keys a route's {@code enrich:} may say what to fetch with, for an enricher of this type:
   * {@code path} or {@code get} (an API path), or {@code query} (a Salesforce SOQL query).
   */
  default List<String> lookupKeys() {
    return List.of("path", "get");
  }
}
