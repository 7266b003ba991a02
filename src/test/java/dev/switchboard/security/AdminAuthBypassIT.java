package dev.switchboard.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.MutableClock;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ways around the admin token that AdminApiIT's "every route, wrong token" sweep does not try: the
 * same routes spelled differently on the wire (slashes, dot segments, case, encoding, path
 * parameters), other methods, the token in the query string or a cookie. Requests go over a raw
 * socket so that no client normalises the path first. Every route comes from the running gateway,
 * so a new route is covered without editing this test.
 */
class AdminAuthBypassIT {
  static final String TOKEN = "bypass-t0ken-for-tests";
  static final String SOURCE = "secret-named-source";

  @TempDir Path dir;
  GatewayFixture gw;

  record Answer(int status, String head, String body) {}

  @BeforeEach
  void start() throws Exception {
    gw =
        GatewayFixture.start(
            dir,
            "admin: { token: \"${ADMIN_TOKEN}\" }\n"
                + "sources:\n  "
                + SOURCE
                + ":\n    verify: { scheme: none }\n",
            Map.of("ADMIN_TOKEN", TOKEN),
            new MutableClock(Instant.parse("2026-11-23T12:00:00Z")));
  }

  @AfterEach
  void stop() {
    gw.close();
  }

  /** GET routes under /api/v1 as served, with path parameters filled in. */
  List<String> getPaths() {
    List<String> paths =
        gw.gateway().httpEndpoints().stream()
            .filter(e -> e.startsWith("GET /api/v1/"))
            .map(e -> e.substring("GET ".length()))
            .filter(p -> !p.equals("/api/v1/openapi.yaml"))
            .map(p -> p.replace("{name}", "x").replace("{id}", "evt_" + "0".repeat(32)))
            .toList();
    assertThat(paths).contains("/api/v1/sources", "/api/v1/events").hasSizeGreaterThan(8);
    return paths;
  }

  static List<String> spellings(String path) {
    String rest = path.substring("/api/v1/".length());
    List<String> out = new ArrayList<>();
    out.add(path);
    out.add(path + "/");
    out.add("/" + path);
    out.add("/api//v1/" + rest);
    out.add("/api/v1//" + rest);
    out.add("/api/v1/./" + rest);
    out.add("/api/x/../v1/" + rest);
    out.add("/ui/../api/v1/" + rest);
    out.add("/api/v1/" + rest + ";jsessionid=1");
    out.add("/api;x=1/v1/" + rest);
    out.add("/API/V1/" + rest.toUpperCase(Locale.ROOT));
    out.add("/api/V1/" + rest);
    out.add("/%61pi/v1/" + rest);
    out.add("/api%2Fv1%2F" + rest);
    out.add("/api/v1/openapi.yaml/../" + rest);
    out.add("/api/v1/openapi.yaml;/../" + rest);
    out.add("/api/v1/openapi.yaml%2F..%2F" + rest);
    out.add(path + "?token=" + TOKEN + "&access_token=" + TOKEN + "&api_key=" + TOKEN);
    return out;
  }

  @Test
  void noSpellingOfAGuardedPathReachesItsHandlerWithoutTheToken() throws Exception {
    int tried = 0;
    for (String path : getPaths()) {
      for (String spelling : spellings(path)) {
        Answer a = raw("GET", spelling, List.of("Cookie: token=" + TOKEN));
        tried++;
        assertThat(a.status())
            .as("GET %s answered %s", spelling, a.head())
            .isGreaterThanOrEqualTo(400);
        assertThat(a.body()).as("GET %s", spelling).doesNotContain(SOURCE, TOKEN);
      }
    }
    assertThat(tried).isGreaterThan(150);
  }

  @Test
  void otherMethodsOnGuardedPathsAreRefusedWithoutTheToken() throws Exception {
    for (String path : getPaths()) {
      for (String method : List.of("HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")) {
        Answer a = raw(method, path, List.of("Content-Length: 0"));
        assertThat(a.status())
            .as("%s %s answered %s", method, path, a.head())
            .isGreaterThanOrEqualTo(400);
        assertThat(a.body()).doesNotContain(SOURCE, TOKEN);
      }
    }
  }

  @Test
  void onlyTheExactTokenInAnAuthorizationBearerHeaderOpensTheApi() throws Exception {
    // the scheme name is case-insensitive (RFC 9110 §11.1); the token is not
    for (String scheme : List.of("Bearer", "bearer", "BEARER", "bEaReR")) {
      Answer a = raw("GET", "/api/v1/sources", List.of("Authorization: " + scheme + " " + TOKEN));
      assertThat(a.status()).as(scheme).isEqualTo(200);
      assertThat(a.body()).contains(SOURCE);
    }
    List<String> wrong =
        List.of(
            "Bearer " + TOKEN.toUpperCase(Locale.ROOT),
            "Bearer " + TOKEN.substring(0, TOKEN.length() - 1),
            "Bearer " + TOKEN + TOKEN,
            "Bearer " + "x".repeat(4096),
            "Bearer" + TOKEN,
            "Bearer=" + TOKEN,
            "Token " + TOKEN,
            "Basic " + TOKEN,
            "Bearer " + TOKEN.replace('-', '_'),
            "Bearer \"" + TOKEN + "\"");
    for (String authorization : wrong) {
      Answer a = raw("GET", "/api/v1/sources", List.of("Authorization: " + authorization));
      assertThat(a.status()).as(authorization).isEqualTo(401);
      assertThat(a.head().toLowerCase(Locale.ROOT))
          .contains("content-type: application/problem+json", "www-authenticate: bearer");
      assertThat(a.body()).contains("\"status\":401").doesNotContain(SOURCE, TOKEN);
    }
    for (String header :
        List.of("X-Api-Key: " + TOKEN, "X-Admin-Token: " + TOKEN, "Cookie: token=" + TOKEN)) {
      assertThat(raw("GET", "/api/v1/sources", List.of(header)).status()).as(header).isEqualTo(401);
    }
  }

  /** One HTTP/1.1 request over a fresh socket, the path sent exactly as given. */
  Answer raw(String method, String path, List<String> headers) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", gw.gateway().port())) {
      socket.setSoTimeout(10_000);
      StringBuilder request = new StringBuilder();
      request.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
      request.append("Host: 127.0.0.1\r\nConnection: close\r\n");
      headers.forEach(h -> request.append(h).append("\r\n"));
      request.append("\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      String text = all.toString(StandardCharsets.UTF_8);
      int split = text.indexOf("\r\n\r\n");
      String head = split < 0 ? text : text.substring(0, split);
      String body = split < 0 ? "" : text.substring(split + 4);
      String[] statusLine = head.split(" ", 3);
      assertThat(statusLine.length)
          .as("status line of %s %s: %s", method, path, head)
          .isGreaterThan(1);
      return new Answer(Integer.parseInt(statusLine[1]), head, body);
    }
  }
}
