package dev.switchboard.destination;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.http.HttpDestination;
import dev.switchboard.destination.jdbc.JdbcDestination;
import dev.switchboard.destination.jira.JiraDestination;
import dev.switchboard.destination.kafka.KafkaDestination;
import dev.switchboard.destination.salesforce.SalesforceDestination;
import dev.switchboard.destination.slack.SlackDestination;
import dev.switchboard.testing.DestinationConfigs;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every connector names the class of its failures itself, against real local endpoints: a server
 * that accepts and never answers (timeout), a closed port (connection refused) and a server that
 * answers a scripted status (429, 5xx, 4xx).
 */
class ConnectorErrorClassTest {
  static final Duration TIMEOUT = Duration.ofMillis(500);
  static final Clock CLOCK = Clock.systemUTC();

  final List<AutoCloseable> opened = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : opened) {
      c.close();
    }
  }

  @Test
  void theStoredNamesAreTheOnesInUse() {
    assertThat(List.of(ErrorClass.values()).stream().map(ErrorClass::stored))
        .containsExactly(
            "http_429",
            "http_5xx",
            "http_4xx",
            "http_other",
            "timeout",
            "connection",
            "auth",
            "internal",
            "error");
    assertThat(ErrorClass.ofStatus(429)).isEqualTo(ErrorClass.HTTP_429);
    assertThat(ErrorClass.ofStatus(503)).isEqualTo(ErrorClass.HTTP_5XX);
    assertThat(ErrorClass.ofStatus(409)).isEqualTo(ErrorClass.HTTP_4XX);
    assertThat(ErrorClass.ofStatus(302)).isEqualTo(ErrorClass.HTTP_OTHER);
    assertThat(ErrorClass.ofStatus(0)).isEqualTo(ErrorClass.ERROR);
  }

  @Test
  void theConvenienceConstructorsClassByStatusAlone() {
    assertThat(new RetryLater("timeout", 0, null, null).errorClass()).isEqualTo(ErrorClass.ERROR);
    assertThat(new RetryLater("x", 429, null, null).errorClass()).isEqualTo(ErrorClass.HTTP_429);
    assertThat(new Rejected("x", 404, null).errorClass()).isEqualTo(ErrorClass.HTTP_4XX);
    assertThat(new Rejected("connection", 0, null).errorClass()).isEqualTo(ErrorClass.ERROR);
  }

  @ParameterizedTest
  @ValueSource(strings = {"http", "slack", "jira"})
  void aServerThatNeverAnswersIsATimeout(String type) throws IOException {
    String url = "http://127.0.0.1:" + silentServer();
    assertThat(classOf(send(httpFamily(type, url)))).isEqualTo(ErrorClass.TIMEOUT);
  }

  @ParameterizedTest
  @ValueSource(strings = {"http", "slack", "jira"})
  void aClosedPortIsAConnectionError(String type) {
    String url = "http://127.0.0.1:" + closedPort();
    assertThat(classOf(send(httpFamily(type, url)))).isEqualTo(ErrorClass.CONNECTION);
  }

  @ParameterizedTest
  @ValueSource(strings = {"http", "slack", "jira", "salesforce"})
  void statusesAreClassedByTheirFamily(String type) throws IOException {
    AtomicInteger status = new AtomicInteger();
    String url = "http://127.0.0.1:" + answering(status);
    Destination destination = type.equals("salesforce") ? salesforce(url) : httpFamily(type, url);
    status.set(429);
    assertThat(classOf(send(destination))).isEqualTo(ErrorClass.HTTP_429);
    status.set(503);
    assertThat(classOf(send(destination))).isEqualTo(ErrorClass.HTTP_5XX);
    status.set(400);
    assertThat(classOf(send(destination))).isEqualTo(ErrorClass.HTTP_4XX);
  }

  /** The salesforce connector prefixes its no-answer errors, which were never read as a class. */
  @Test
  void salesforceWithoutAnAnswerIsClassedErrorAsBefore() throws IOException {
    assertThat(classOf(send(salesforce("http://127.0.0.1:" + closedPort()))))
        .isEqualTo(ErrorClass.ERROR);
    assertThat(classOf(send(salesforce("http://127.0.0.1:" + silentServer()))))
        .isEqualTo(ErrorClass.ERROR);
  }

  @Test
  void kafkaWithoutABrokerIsATimeout() {
    Map<String, Object> settings = new HashMap<>();
    settings.put("bootstrap_servers", "127.0.0.1:" + closedPort());
    settings.put("topic", "t");
    KafkaDestination kafka =
        new KafkaDestination(config("kafka", settings, Duration.ofSeconds(1), 1));
    opened.add(kafka);
    assertThat(classOf(send(kafka))).isEqualTo(ErrorClass.TIMEOUT);
  }

  @Test
  void jdbcOnAClosedPortIsAConnectionError() {
    Map<String, Object> settings = new HashMap<>();
    settings.put("url", "jdbc:postgresql://127.0.0.1:" + closedPort() + "/crm");
    settings.put("table", "t");
    settings.put("key_columns", List.of("id"));
    settings.put("connect_timeout", "1s");
    JdbcDestination jdbc = new JdbcDestination(config("jdbc", settings, TIMEOUT, 1));
    opened.add(jdbc);
    assertThat(classOf(send(jdbc))).isEqualTo(ErrorClass.CONNECTION);
  }

  private Destination httpFamily(String type, String url) {
    Destination destination =
        switch (type) {
          case "http" ->
              new HttpDestination(
                  config("http", Map.of("url", url, "method", "POST"), TIMEOUT, 1),
                  CLOCK,
                  (body, secret, now, id) -> Map.of());
          case "slack" ->
              new SlackDestination(config("slack", Map.of("url", url), TIMEOUT, 1), CLOCK);
          default ->
              new JiraDestination(
                  config(
                      "jira",
                      Map.of(
                          "base_url", url,
                          "email", "a@example.com",
                          "api_token", "t",
                          "project", "OPS"),
                      TIMEOUT,
                      1),
                  CLOCK);
        };
    opened.add(destination);
    return destination;
  }

  private Destination salesforce(String url) {
    Map<String, Object> settings = new HashMap<>();
    settings.put("login_url", url);
    settings.put("client_id", "c");
    settings.put("client_secret", "s");
    settings.put("object", "Log__c");
    settings.put("operation", "create");
    SalesforceDestination destination =
        new SalesforceDestination(config("salesforce", settings, TIMEOUT, 1), CLOCK);
    opened.add(destination);
    return destination;
  }

  private static DestinationConfig config(
      String type, Map<String, Object> settings, Duration timeout, int concurrency) {
    return DestinationConfigs.load("d", type, settings, timeout, concurrency);
  }

  private static DeliveryResult send(Destination destination) {
    return destination.send(
        new OutboundDelivery(
            "d-1",
            "e-1",
            "k-1",
            null,
            "{\"id\":\"1\",\"summary\":\"s\"}".getBytes(StandardCharsets.UTF_8),
            Map.of(),
            1));
  }

  private static ErrorClass classOf(DeliveryResult result) {
    return switch (result) {
      case RetryLater r -> r.errorClass();
      case Rejected r -> r.errorClass();
      case DeliveryResult.Delivered d -> throw new AssertionError("delivered: " + d);
    };
  }

  /** Accepts connections and never answers. */
  private int silentServer() throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    List<Socket> held = new ArrayList<>();
    Thread.ofVirtual()
        .start(
            () -> {
              while (!server.isClosed()) {
                try {
                  held.add(server.accept());
                } catch (IOException e) {
                  return;
                }
              }
            });
    opened.add(server);
    return server.getLocalPort();
  }

  /** Answers every request with the status {@code status} holds, and a JSON body. */
  private int answering(AtomicInteger status) throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          byte[] body =
              "[{\"errorCode\":\"X\",\"message\":\"no\"}]".getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(status.get(), body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    opened.add(() -> server.stop(0));
    return server.getAddress().getPort();
  }

  private static int closedPort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
