package dev.switchboard.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

/**
 * The admin API's query parameters (events search, quarantine, dead letters, stats, single
 * resources) over real HTTP against a gateway on SQLite: every answer is a 200, or a 4xx with an
 * {@code application/problem+json} body whose status matches; never a 5xx. The request line is
 * written on a raw socket, so malformed percent-escapes and odd bytes reach the server as sent.
 *
 * <p>Input: the first line is the request target ({@code /api/v1/events?limit=5&cursor=…}); a path
 * that is not one of the endpoints is replaced by one chosen from its hash.
 */
class AdminQueryFuzzTest {
  static final String TOKEN = "fuzz-admin-token-0123456789";
  static final ObjectMapper JSON = new ObjectMapper();
  static final List<String> ENDPOINTS =
      List.of(
          "/api/v1/events",
          "/api/v1/quarantine",
          "/api/v1/dead-letters",
          "/api/v1/stats",
          "/api/v1/destinations",
          "/api/v1/events/evt_00000000000000000000000000000000",
          "/api/v1/deliveries/dlv_00000000000000000000000000000000",
          "/api/v1/destinations/crm");

  private static GatewayFixture gateway;

  private static synchronized GatewayFixture gateway() throws Exception {
    if (gateway == null) {
      FuzzLogging.quietWhileFuzzing();
      Path dir = Files.createTempDirectory("admin-fuzz");
      dir.toFile().deleteOnExit();
      gateway =
          GatewayFixture.start(
              dir,
              """
              admin: { token: "${ADMIN_TOKEN}" }
              sources:
                forms:
                  verify: { scheme: none }
                  idempotency: { key: id }
                  partition_key: formId
              routes:
                to-crm: { from: forms, to: crm }
              destinations:
                crm:
                  type: http
                  url: http://127.0.0.1:9/crm
              """,
              Map.of("ADMIN_TOKEN", TOKEN),
              new MutableClock(Instant.parse("2026-10-27T14:30:00Z")));
      for (int i = 0; i < 3; i++) {
        gateway.post(
            "forms",
            GatewayFixture.utf8("{\"id\":\"f-" + i + "\",\"formId\":\"form-" + i + "\"}"),
            Map.of());
      }
    }
    return gateway;
  }

  @AfterAll
  static synchronized void stop() {
    if (gateway != null) {
      gateway.close();
      gateway = null;
    }
  }

  @FuzzTest(maxDuration = "60s")
  void everyQueryIsAnsweredOrRefusedAsProblemJson(byte[] data) throws Exception {
    // the SSRF detector would count the harness's own loopback connections as findings; Jazzer
    // resets the policy for each execution, so it is set again each time
    BugDetectors.allowNetworkConnections(
        (host, port) -> host.equals("127.0.0.1") || host.equals("localhost"));
    String target = FuzzInput.parse(data).firstLine();
    int question = target.indexOf('?');
    String path = question < 0 ? target : target.substring(0, question);
    String query = question < 0 ? "" : target.substring(question + 1);
    if (!ENDPOINTS.contains(path)) {
      path = ENDPOINTS.get(Math.floorMod(path.hashCode(), ENDPOINTS.size()));
    }
    Response response = get(gateway(), path + "?" + escape(query));
    assertThat(response.status()).as("never a server error").isLessThan(500);
    if (response.status() != 200) {
      assertThat(response.status()).isIn(400, 404);
      assertThat(response.contentType()).startsWith("application/problem+json");
      JsonNode problem = JSON.readTree(response.body());
      assertThat(problem.path("status").asInt()).isEqualTo(response.status());
      assertThat(problem.path("title").asText()).isNotBlank();
    } else {
      assertThat(response.contentType()).startsWith("application/json");
      JSON.readTree(response.body());
    }
  }

  static final List<String> ACTIONS =
      List.of(
          "/api/v1/dead-letters/replay",
          "/api/v1/dead-letters/discard",
          "/api/v1/deliveries/dlv_00000000000000000000000000000000/replay",
          "/api/v1/deliveries/dlv_00000000000000000000000000000000/discard",
          "/api/v1/destinations/crm/pause",
          "/api/v1/destinations/crm/resume",
          "/api/v1/destinations/nowhere/pause",
          "/api/v1/quarantine/release",
          "/api/v1/events/evt_00000000000000000000000000000000/release");

  /**
   * The admin API's action bodies (bulk replay and discard filters, single actions, pause and
   * resume, quarantine release): every answer is a 2xx with JSON or no body, or a 4xx problem+json;
   * never a 5xx.
   *
   * <p>Input: the first line is the action's path (one of {@link #ACTIONS}, else one chosen from
   * its hash), the body is sent as it is with {@code Content-Type: application/json}.
   */
  @FuzzTest(maxDuration = "60s")
  void everyActionBodyIsAnsweredOrRefusedAsProblemJson(byte[] data) throws Exception {
    BugDetectors.allowNetworkConnections(
        (host, port) -> host.equals("127.0.0.1") || host.equals("localhost"));
    FuzzInput input = FuzzInput.parse(data);
    String path = input.firstLine();
    if (!ACTIONS.contains(path)) {
      path = ACTIONS.get(Math.floorMod(path.hashCode(), ACTIONS.size()));
    }
    Response response = request(gateway(), "POST", path, input.body());
    assertThat(response.status()).as("never a server error").isLessThan(500);
    if (response.status() >= 300) {
      assertThat(response.status()).isBetween(400, 499);
      assertThat(response.contentType()).startsWith("application/problem+json");
      JsonNode problem = JSON.readTree(response.body());
      assertThat(problem.path("status").asInt()).isEqualTo(response.status());
      assertThat(problem.path("title").asText()).isNotBlank();
    } else if (response.body().length > 0) {
      assertThat(response.contentType()).startsWith("application/json");
      JSON.readTree(response.body());
    }
  }

  /**
   * What a client would put on the wire for this text: bytes that may not appear in a request line
   * are percent-encoded, but a {@code %} is kept, so malformed escapes are sent as they are.
   */
  static String escape(String query) {
    StringBuilder out = new StringBuilder();
    for (byte b : query.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c > 0x20 && c < 0x7f && c != '#') {
        out.append((char) c);
      } else {
        out.append('%').append(String.format(Locale.ROOT, "%02X", c));
      }
    }
    return out.toString();
  }

  record Response(int status, String contentType, byte[] body) {}

  /** One GET on a fresh connection, read to the end. */
  static Response get(GatewayFixture gw, String target) throws Exception {
    return request(gw, "GET", target, null);
  }

  /** One request on a fresh connection ({@code body} null: none), read to the end. */
  static Response request(GatewayFixture gw, String method, String target, byte[] body)
      throws Exception {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", gw.gateway().port()), 5_000);
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          (method
                  + " "
                  + target
                  + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                  + TOKEN
                  + (body == null
                      ? ""
                      : "\r\nContent-Type: application/json\r\nContent-Length: " + body.length)
                  + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      if (body != null) {
        out.write(body);
      }
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] all = in.readAllBytes();
      String text = new String(all, StandardCharsets.ISO_8859_1);
      int end = text.indexOf("\r\n\r\n");
      assertThat(end).as("a complete HTTP response").isPositive();
      String[] head = text.substring(0, end).split("\r\n");
      int status = Integer.parseInt(head[0].split(" ")[1]);
      String type = "";
      boolean chunked = false;
      for (String line : head) {
        String lower = line.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-type:")) {
          type = line.substring(13).trim();
        } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
          chunked = true;
        }
      }
      byte[] content = java.util.Arrays.copyOfRange(all, end + 4, all.length);
      return new Response(status, type, chunked ? dechunk(content) : content);
    }
  }

  private static byte[] dechunk(byte[] chunked) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String text = new String(chunked, StandardCharsets.ISO_8859_1);
    int i = 0;
    while (i < text.length()) {
      int lineEnd = text.indexOf("\r\n", i);
      int size = Integer.parseInt(text.substring(i, lineEnd).split(";")[0].trim(), 16);
      if (size == 0) {
        break;
      }
      out.write(chunked, lineEnd + 2, size);
      i = lineEnd + 2 + size + 2;
    }
    return out.toByteArray();
  }
}
