package dev.switchboard.testing;

import java.net.URI;

/**
 * The {@code sources}, {@code routes} and {@code destinations} of a configuration with one pulled
 * source, {@code genesys} ({@code type: genesys-notifications}), on a fake Genesys Cloud at {@code
 * fake}, routed to one http destination: what the pull tests, the log hygiene test and the pull
 * benchmark run.
 */
public final class PulledSourceConfig {
  public static final String CONVERSATIONS = "v2.routing.queues.{id}.conversations";

  private PulledSourceConfig() {}

  /**
   * @param secret the {@code client_secret} as written (e.g. {@code ${SECRET}})
   * @param topic one topic
   * @param queues the {@code queues:} line(s), indented as source keys, or ""
   * @param extras more source keys, indented, or ""
   */
  public static String yaml(
      URI fake,
      String clientId,
      String secret,
      String topic,
      String queues,
      String extras,
      URI destination) {
    return """
        sources:
          genesys:
            type: genesys-notifications
            login_url: %s
            api_url: %s
            client_id: %s
            client_secret: %s
            topics:
              - %s
        %s%s
        routes:
          to-crm: { from: genesys, to: crm }
        destinations:
          crm: { type: http, url: "%s" }
        """
        .formatted(fake, fake, clientId, secret, topic, queues, extras, destination);
  }

  /** The usual case: {@link #CONVERSATIONS} over one queue. */
  public static String yaml(
      URI fake, String clientId, String secret, String queue, URI destination) {
    return yaml(
        fake,
        clientId,
        secret,
        CONVERSATIONS,
        "    queues: [\"" + queue + "\"]\n",
        "",
        destination);
  }
}
