package dev.switchboard.destination;

import java.util.List;

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

  /**
   * The most deliveries one request may carry (Salesforce sObject Collections); 1 when the
   * connector sends one at a time. The dispatcher never puts two deliveries of one partition key in
   * a batch, and counts a batch as one request against the rate limit and the concurrency.
   */
  default int batchSize() {
    return 1;
  }

  /**
   * Sends several deliveries in one request; called only when {@link #batchSize()} is above 1, with
   * at most that many. Each delivery gets its own result, in order: one bad record fails alone.
   */
  default List<DeliveryResult> sendBatch(List<OutboundDelivery> deliveries) {
    return deliveries.stream().map(this::send).toList();
  }

  /** The configured name, for logs and metrics; never a URL. */
  String name();

  @Override
  default void close() {}
}
