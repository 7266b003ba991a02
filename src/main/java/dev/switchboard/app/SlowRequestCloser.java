package dev.switchboard.app;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes the connection of a client that takes longer than {@code server.request_timeout} to send
 * one request, from its first byte to its last (request line, headers and body): the slowloris
 * defence. Jetty's idle timeout only notices silence, so a client that trickles one byte a second
 * would otherwise hold its connection (and, while it sends a body, an ingest request) for hours.
 *
 * <p>{@link #sweep} runs every few hundred milliseconds and looks at each connection's HTTP/1.1
 * parser: while it is inside a request (not waiting for the next one, not done reading this one)
 * the request is being received, and the sweep remembers since when, keyed by the number of
 * responses the connection has sent (a new request on a kept-alive connection starts afresh). A
 * request whose body was read in full is no longer "being received": a slow group commit is the ack
 * timeout's business, not this one's. Failure policy: a closed connection, not an answer, since the
 * client is not reading at the speed an answer needs anyway; an ingest request blocked reading the
 * body then fails and nothing is stored.
 *
 * <p>Known limit: Jetty parses a body as the handler reads it, so a handler that leaves a body
 * unread for longer than the timeout also looks "still receiving". Ingest reads the body first
 * thing and the admin API reads its small bodies at the start of each handler, so this does not
 * arise today; a new handler that reads its body late must keep it in mind.
 */
final class SlowRequestCloser {
  private static final Logger LOG = LoggerFactory.getLogger(SlowRequestCloser.class);

  /** When a connection was first seen receiving its current request. */
  private record Receiving(long responsesBefore, long sinceNanos) {}

  private final Server server;
  private final Supplier<Duration> timeout;
  private final Map<EndPoint, Receiving> receiving = new ConcurrentHashMap<>();

  /**
   * @param timeout read at every sweep, so a reload changes it live
   */
  SlowRequestCloser(Server server, Supplier<Duration> timeout) {
    this.server = server;
    this.timeout = timeout;
  }

  /** How often to sweep for a timeout: often enough that the bound is the timeout and a little. */
  static Duration period(Duration timeout) {
    long millis = Math.clamp(timeout.toMillis() / 4, 50, 1000);
    return Duration.ofMillis(millis);
  }

  /** One pass over every open connection; returns how many it closed. */
  int sweep() {
    long now = System.nanoTime();
    long limit = timeout.get().toNanos();
    int closed = 0;
    for (Connector connector : server.getConnectors()) {
      if (!(connector instanceof AbstractConnector c)) {
        continue;
      }
      for (EndPoint endPoint : c.getConnectedEndPoints()) {
        HttpConnection http = httpConnection(endPoint.getConnection());
        if (http == null || !isReceiving(http)) {
          receiving.remove(endPoint);
          continue;
        }
        long responses = http.getMessagesOut();
        Receiving since =
            receiving.compute(
                endPoint,
                (e, was) ->
                    was != null && was.responsesBefore() == responses
                        ? was
                        : new Receiving(responses, now));
        if (now - since.sinceNanos() > limit) {
          receiving.remove(endPoint);
          LOG.info(
              "closed a connection from {}: one request took longer than {} ms to arrive",
              endPoint.getRemoteSocketAddress(),
              timeout.get().toMillis());
          endPoint.close();
          closed++;
        }
      }
    }
    // connections that closed by themselves since the last sweep
    receiving.keySet().removeIf(e -> !e.isOpen());
    return closed;
  }

  private static boolean isReceiving(HttpConnection http) {
    var parser = http.getParser();
    // read from another thread without a lock: a stale view costs one sweep period at most
    return (parser.inHeaderState() && !parser.isStart()) || parser.inContentState();
  }

  private static HttpConnection httpConnection(Connection connection) {
    if (connection instanceof HttpConnection http) {
      return http;
    }
    if (connection instanceof SslConnection ssl) {
      return httpConnection(ssl.getSslEndPoint().getConnection());
    }
    return null;
  }
}
