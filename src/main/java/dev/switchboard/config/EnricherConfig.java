package dev.switchboard.config;

import java.util.Map;

/** A named enrichment client (type {@code genesys-cloud}); its keys stay in {@code settings}. */
public record EnricherConfig(
    String name, String type, Map<String, Object> settings, RateLimit rateLimit) {}
