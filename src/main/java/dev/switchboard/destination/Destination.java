package dev.switchboard.destination;

/**
 * A delivery target of one connector type (http, salesforce, slack, …).
 *
 * <p>Lifecycle: built once from its configuration when the gateway starts (or reloads); {@link
 * #send} is then called concurrently by the dispatcher, at most the destination's concurrency at a
 * time; {@link #close} is called once no attempt is running. Destinations never touch the store.
 *
 * <p>{@link #send} never throws for anything the remote side does — refusals, timeouts, broken
 * connections — it classifies them into a {@link DeliveryResult}. It may throw only for a bug.
 */
public interface Destination extends AutoCloseable {

  DeliveryResult send(OutboundDelivery delivery);

  /** The configured name, for logs and metrics; never a URL. */
  String name();

  @Override
  default void close() {}
}
