package dev.switchboard.config;

import dev.switchboard.expr.Expression;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The gateway's own source, {@code switchboard}: the operational events it emits about itself
 * (docs/operational-events.md) are stored there and routed like any other source's events. It has
 * no endpoint ({@code POST /hooks/switchboard} is 404) and is never written in the configuration;
 * routes name it in {@code from:}.
 */
public final class OperationalSource {
  /** The source's name, reserved. */
  public static final String NAME = "switchboard";

  /** An event's id is stable for one condition: a repeat or a replay is one event. */
  static final Duration KEY_TTL = Duration.ofDays(7);

  private static final SourceConfig CONFIG =
      new SourceConfig(
          NAME,
          new VerifyConfig("none", null, null, null, List.of(), VerifyConfig.DEFAULT_TOLERANCE),
          List.of(),
          1L << 20,
          new SourceConfig.Idempotency(Expression.compile("id"), KEY_TTL, true),
          Expression.compile("occurredAt"),
          Expression.compile("$exists(subject.destination) ? subject.destination : subject.source"),
          SourceConfig.Redact.NONE,
          null,
          SourceConfig.OnInvalid.QUARANTINE,
          null,
          Map.of(),
          202,
          200,
          List.of(),
          Map.of(),
          null);

  private OperationalSource() {}

  /** The source's settings, the same in every configuration. */
  public static SourceConfig config() {
    return CONFIG;
  }
}
