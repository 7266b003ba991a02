package dev.switchboard.dispatch;

/** A route and a partition key: the unit of per-key order and of stale-event watermarks. */
record RouteKey(String route, String key) {}
