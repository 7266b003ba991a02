package dev.switchboard.config;

/**
 * Where events live.
 *
 * @param type {@code sqlite} (default) or {@code postgres}
 * @param path the SQLite file (sqlite only; default data/switchboard.db)
 * @param url JDBC URL (postgres only)
 * @param maxSizeBytes cap on the SQLite file size, 0 for none: past it writes fail like a full disk
 *     and ingest answers 503
 */
public record StoreConfig(
    String type, String path, String url, String user, String password, long maxSizeBytes) {}
