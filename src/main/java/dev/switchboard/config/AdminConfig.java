package dev.switchboard.config;

/** The admin API's bearer token (may be null: admin API disabled). */
public record AdminConfig(String token) {}
