package dev.switchboard.config;

/**
 * A named enrichment client (type {@code genesys-cloud}).
 *
 * @param settings the enricher's own settings, typed by its {@link EnricherType}; null only for a
 *     type the loader refused
 */
public record EnricherConfig(
    String name, String type, EnricherSettings settings, RateLimit rateLimit) {}
