package dev.switchboard.tls;

import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * What Switchboard's own HTTP clients ({@code send}, {@code emulate}, the admin commands) trust
 * when they talk to a gateway over HTTPS: the system's CAs, plus a private CA or a self-signed
 * gateway certificate given as a PEM file — or, for a test bench only, anything.
 */
public final class ClientTrust {
  private ClientTrust() {}

  /**
   * Trusts the system's CAs and every certificate in {@code caFile}. Host names are still checked,
   * so the gateway's certificate must name the host the client connects to.
   */
  public static SSLContext trusting(Path caFile) throws PemFileException {
    List<X509Certificate> extra = PemFiles.certificates(caFile);
    try {
      KeyStore anchors = KeyStore.getInstance("PKCS12");
      anchors.load(null, null);
      int n = 0;
      for (X509Certificate system : systemTrust().getAcceptedIssuers()) {
        anchors.setCertificateEntry("system-" + n++, system);
      }
      for (X509Certificate certificate : extra) {
        anchors.setCertificateEntry("ca-cert-" + n++, certificate);
      }
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(anchors);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot build a trust store: " + e, e);
    }
  }

  /**
   * Trusts any certificate for any host name: the connection is encrypted but not authenticated, so
   * anyone on the path can read it. For a test bench only; callers print a warning.
   */
  public static SSLContext trustingAnything() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new AnyCertificate()}, new SecureRandom());
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build an SSL context: " + e, e);
    }
  }

  private static X509TrustManager systemTrust() throws GeneralSecurityException {
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init((KeyStore) null);
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509TrustManager x509) {
        return x509;
      }
    }
    throw new GeneralSecurityException("the JDK has no X.509 trust manager");
  }

  /**
   * Accepts every chain. It extends {@link X509ExtendedTrustManager} on purpose: the JDK wraps a
   * plain {@link X509TrustManager} in one that still checks the host name.
   */
  private static final class AnyCertificate extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
