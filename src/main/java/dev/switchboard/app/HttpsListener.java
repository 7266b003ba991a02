package dev.switchboard.app;

import dev.switchboard.tls.ServerCertificate;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The Jetty connector for HTTPS on {@code server.port}: TLS 1.3 and 1.2 only, forward-secret AEAD
 * cipher suites only (Jetty already drops SSL*, RSA key exchange, NULL, anonymous and SHA-1/MD5
 * suites; CBC suites are dropped here too, as in Mozilla's "intermediate" profile), no
 * renegotiation. The listener is HTTPS only: plain HTTP on this port fails the handshake. Also
 * builds the plain HTTP connector, so both have the same accept queue.
 */
final class HttpsListener {
  static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  /**
   * Connections the kernel may hold for us before we accept them. Jetty's default (0) leaves the
   * JDK's 50, and a burst of senders beyond it sees dropped SYNs and a retransmit a second or more
   * later; the kernel caps this at net.core.somaxconn.
   */
  static final int ACCEPT_QUEUE = 1024;

  /** The plain HTTP connector on {@code server.port}, when no certificate is configured. */
  static ServerConnector plainConnector(
      Server server, HttpConfiguration http, String host, int port) {
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost(host);
    connector.setPort(port);
    connector.setAcceptQueueSize(ACCEPT_QUEUE);
    return connector;
  }

  private HttpsListener() {}

  static ServerConnector connector(
      Server server, HttpConfiguration http, ServerCertificate certificate, String host, int port) {
    HttpConfiguration https = new HttpConfiguration(http);
    // no SNI host check: with one certificate there is nothing to choose between, and health
    // checks that connect by IP address must still be answered
    https.addCustomizer(new SecureRequestCustomizer(false, false, -1, false));
    ServerConnector connector =
        new ServerConnector(
            server,
            new SslConnectionFactory(contextFactory(certificate), HttpVersion.HTTP_1_1.asString()),
            new HttpConnectionFactory(https));
    connector.setHost(host);
    connector.setPort(port);
    connector.setAcceptQueueSize(ACCEPT_QUEUE);
    return connector;
  }

  static SslContextFactory.Server contextFactory(ServerCertificate certificate) {
    // the key store lives in memory only; its password guards nothing on disk
    byte[] random = new byte[16];
    new SecureRandom().nextBytes(random);
    String password = HexFormat.of().formatHex(random);
    SslContextFactory.Server factory = new SslContextFactory.Server();
    try {
      factory.setKeyStore(certificate.keyStore(password.toCharArray()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot prepare the TLS key store: " + e.getMessage(), e);
    }
    factory.setKeyStorePassword(password);
    factory.setKeyManagerPassword(password);
    factory.setIncludeProtocols(PROTOCOLS);
    // DSS suites need a DSA certificate, which nobody issues any more
    factory.addExcludeCipherSuites("^.*_CBC_.*$", "^TLS_DHE_DSS_.*$");
    factory.setRenegotiationAllowed(false);
    return factory;
  }
}
