package dev.switchboard.destination.http;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One OAuth client-credentials token per client, shared by every connector that uses that client: a
 * {@code genesys-cloud} enricher and a {@code genesys-cloud} destination with the same client ask
 * Genesys for one token, not two, and a {@code salesforce} enricher reads through the destination's
 * session. Connectors ask for their {@link OAuthClientCredentials} here instead of building one.
 *
 * <p>Lifecycle: one per gateway, built by the composition root and handed to connectors in their
 * {@code ConnectorContext}; it outlives reloads, so a reload that rebuilds a connector keeps its
 * token. Token requests go through this registry's own small connection pool, never closed before
 * the gateway stops.
 *
 * <p>A client is the token endpoint, the client id, a digest of the secret (a changed secret is a
 * new client), how the client authenticates and the extra form fields: two connectors share a token
 * only when the endpoint would answer both the same.
 */
public final class OAuthSessions implements AutoCloseable {
  private static final Duration TIMEOUT = Duration.ofSeconds(15);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final int MAX_ANSWER_BYTES = 64 * 1024;

  private record Client(
      URI tokenUri,
      String clientId,
      String secretDigest,
      OAuthClientCredentials.ClientAuth auth,
      Map<String, String> form,
      Duration margin) {}

  private final Clock clock;
  private final Map<Client, OAuthClientCredentials> sessions = new ConcurrentHashMap<>();
  private final HttpTransport transport;

  public OAuthSessions(Clock clock) {
    this.clock = clock;
    this.transport = new HttpTransport(CONNECT_TIMEOUT, TIMEOUT, 8, MAX_ANSWER_BYTES);
  }

  /**
   * The shared token of one client, created on first use.
   *
   * @param margin how long before {@code expires_in} runs out the token is renewed
   * @param form extra fields of the token request ({@code scope}, {@code audience}, …), in order
   */
  public OAuthClientCredentials session(
      URI tokenUri,
      String clientId,
      String clientSecret,
      OAuthClientCredentials.ClientAuth auth,
      Duration margin,
      Map<String, String> form) {
    Client client =
        new Client(tokenUri, clientId, digest(clientSecret), auth, Map.copyOf(form), margin);
    return sessions.computeIfAbsent(
        client,
        c ->
            new OAuthClientCredentials(
                transport, tokenUri, clientId, clientSecret, auth, clock, margin, form));
  }

  /** How many distinct clients have asked for a token: what tests and the check read. */
  public int clients() {
    return sessions.size();
  }

  @Override
  public void close() {
    transport.close();
  }

  private static String digest(String secret) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
