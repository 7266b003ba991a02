package dev.switchboard.destination.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * One destination's outbound HTTP/1.1 connections: a keep-alive pool of blocking connections, used
 * from the dispatcher's virtual threads (Apache HttpClient 5, classic API). Blocking I/O on virtual
 * threads costs about half the CPU per request of the JDK's asynchronous client, whose selector
 * hand-offs dominated a delivery's cost (bench/README.md).
 *
 * <p>Every exchange is bounded as a whole: the connect timeout plus the request timeout, after
 * which the connection is aborted and {@link SocketTimeoutException} thrown, so a destination that
 * trickles its answer cannot hold an attempt. Only the first {@code maxAnswerBytes} of an answer
 * are read; the rest is discarded by closing the connection, which is cheaper than draining it.
 * Redirects are never followed, nothing is retried here, no cookies are kept and no compression is
 * asked for: the dispatcher owns retries, and a connector sees exactly what the destination said.
 */
public final class HttpTransport implements AutoCloseable {

  /** One shared timer thread aborts exchanges that pass their deadline. */
  private static final ScheduledThreadPoolExecutor DEADLINES = deadlineTimer();

  /** A received answer: status, headers (case-insensitive lookup) and the start of the body. */
  public record Answer(int status, HttpOutcomes.Headers headers, String body) {}

  private final PoolingHttpClientConnectionManager connections;
  private final CloseableHttpClient client;
  private final Duration deadline;
  private final int maxAnswerBytes;

  /**
   * @param connectTimeout longest wait for a TCP (and TLS) connection
   * @param timeout longest wait for the answer once connected
   * @param maxConnections connections kept per destination host, normally its concurrency
   * @param maxAnswerBytes how much of an answer's body is read
   */
  public HttpTransport(
      Duration connectTimeout, Duration timeout, int maxConnections, int maxAnswerBytes) {
    this.deadline = connectTimeout.plus(timeout);
    this.maxAnswerBytes = maxAnswerBytes;
    this.connections =
        PoolingHttpClientConnectionManagerBuilder.create()
            .setMaxConnTotal(Math.max(1, maxConnections))
            .setMaxConnPerRoute(Math.max(1, maxConnections))
            .setDefaultConnectionConfig(
                ConnectionConfig.custom()
                    .setConnectTimeout(Timeout.of(connectTimeout))
                    .setSocketTimeout(Timeout.of(timeout))
                    // a pooled connection idle this long is checked before use: the receiver may
                    // have closed it, and a POST sent on a dead connection is an attempt lost
                    .setValidateAfterInactivity(TimeValue.ofSeconds(2))
                    .build())
            .build();
    this.client =
        HttpClients.custom()
            .setConnectionManager(connections)
            .setDefaultRequestConfig(
                RequestConfig.custom()
                    .setResponseTimeout(Timeout.of(timeout))
                    .setConnectionRequestTimeout(Timeout.of(deadline))
                    .setRedirectsEnabled(false)
                    .build())
            .disableRedirectHandling()
            .disableAutomaticRetries()
            .disableCookieManagement()
            .disableContentCompression()
            .disableAuthCaching()
            .evictIdleConnections(TimeValue.ofSeconds(30))
            .build();
  }

  /**
   * Sends one request and reads its answer.
   *
   * @param headers sent as given, in order (Content-Length is computed)
   * @param body sent with a Content-Length, even when empty; null for no body at all
   * @throws SocketTimeoutException when there is no complete answer within the deadline
   * @throws IOException when the connection fails before a status line arrives
   */
  public Answer exchange(String method, URI uri, Map<String, String> headers, byte[] body)
      throws IOException {
    HttpUriRequestBase request = new HttpUriRequestBase(method, uri);
    headers.forEach(request::setHeader);
    if (body != null) {
      request.setEntity(new ByteArrayEntity(body, null));
    }
    AtomicBoolean expired = new AtomicBoolean();
    ScheduledFuture<?> timer =
        DEADLINES.schedule(
            () -> {
              expired.set(true);
              request.cancel();
            },
            deadline.toMillis(),
            TimeUnit.MILLISECONDS);
    ClassicHttpResponse response;
    try {
      response = client.executeOpen(null, request, null);
    } catch (IOException e) {
      timer.cancel(false);
      if (expired.get()) {
        throw new SocketTimeoutException("no answer within " + deadline.toMillis() + " ms");
      }
      throw e;
    }
    try {
      return new Answer(
          response.getCode(), name -> first(response, name), read(request, response.getEntity()));
    } finally {
      timer.cancel(false);
      try {
        response.close();
      } catch (IOException e) {
        // the answer is already read; a connection that fails to close is simply dropped
      }
    }
  }

  @Override
  public void close() {
    client.close(CloseMode.IMMEDIATE);
  }

  private String read(HttpUriRequestBase request, HttpEntity entity) {
    if (entity == null) {
      return "";
    }
    byte[] buffer = new byte[maxAnswerBytes];
    int length = 0;
    boolean complete = false;
    try {
      InputStream in = entity.getContent();
      while (length < buffer.length) {
        int n = in.read(buffer, length, buffer.length - length);
        if (n < 0) {
          complete = true; // at the end the connection goes back to the pool by itself
          break;
        }
        length += n;
      }
      complete = complete || in.read() < 0;
    } catch (IOException e) {
      // A connection broken (or aborted at the deadline) after the status line still leaves an
      // answer to classify, with whatever part of its body arrived.
    }
    if (!complete) {
      request.cancel(); // drop the connection rather than drain the rest of a long answer
    }
    // A cut may split a multi-byte character: decoding replaces it, which an excerpt can afford.
    return new String(buffer, 0, length, StandardCharsets.UTF_8);
  }

  private static String first(ClassicHttpResponse response, String name) {
    Header header = response.getFirstHeader(name);
    return header == null ? null : header.getValue();
  }

  private static ScheduledThreadPoolExecutor deadlineTimer() {
    ScheduledThreadPoolExecutor timer =
        new ScheduledThreadPoolExecutor(
            1, runnable -> Thread.ofPlatform().daemon().name("http-deadlines").unstarted(runnable));
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }
}
