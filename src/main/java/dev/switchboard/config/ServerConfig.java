package dev.switchboard.config;

import java.time.Duration;
import java.util.List;

/**
 * The HTTP listener.
 *
 * @param host bind address (default 0.0.0.0)
 * @param port listen port (default 8080; 0 picks a free one)
 * @param tls PEM certificate and key for HTTPS, or null for plain HTTP
 * @param trustedProxies CIDRs whose {@code X-Forwarded-For} is believed (default none)
 * @param shutdownGrace how long in-flight work may finish on shutdown (default 10s)
 * @param backlogHighWater unfinished deliveries of one destination above which ingest answers 503
 *     to an event that would add to that destination (default 1,000,000)
 * @param ackTimeout longest an ingest request waits for its group commit before a 503 (default 5s)
 * @param requestTimeout longest a client may take to send one whole request, from its first byte to
 *     its last (headers and body); a slower one's connection is closed (default 30s). Jetty's idle
 *     timeout only notices silence, so without this a client sending one byte a second would hold a
 *     connection for hours.
 */
public record ServerConfig(
    String host,
    int port,
    TlsConfig tls,
    List<String> trustedProxies,
    Duration shutdownGrace,
    long backlogHighWater,
    Duration ackTimeout,
    Duration requestTimeout) {

  /**
   * @param cert PEM certificate chain file, the gateway's own certificate first (absolute path)
   * @param key PEM private key file belonging to the first certificate (absolute path)
   */
  public record TlsConfig(String cert, String key) {}
}
