package dev.switchboard.config;

/**
 * An enricher's own settings, typed once by its {@link EnricherType} when the file is loaded and
 * carried in {@link EnricherConfig#settings()}: a record beside the enricher. Compared by value, so
 * a reload that leaves an enricher's keys alone keeps its running client (and its token). Its
 * {@code toString} never shows a credential.
 */
public interface EnricherSettings {}
