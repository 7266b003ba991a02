package dev.switchboard.ingest;

import static dev.switchboard.testing.GatewayFixture.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.GatewayFixture;
import dev.switchboard.testing.Hmac;
import dev.switchboard.testing.MutableClock;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Standard Webhooks and trusted proxies, end to end over HTTP with an injected clock. */
class SchemesOverHttpIT {
  static final String WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static MutableClock clock = new MutableClock(Instant.ofEpochSecond(1614265330));
  static GatewayFixture gw;

  @BeforeAll
  static void start() throws Exception {
    String yaml =
        """
        sources:
          partner:
            verify: { scheme: standard-webhooks, secrets: ["${WHSEC}"] }
            idempotency: { key: "$headers.'webhook-id'" }
          svix-sender:
            verify: { scheme: standard-webhooks, secrets: ["${WHSEC}"] }
            idempotency: { key: "$headers.'svix-id'" }
            keep_headers: [svix-id, svix-signature]
          behind-proxy:
            verify: { scheme: bearer, secrets: ["${TOKEN}"] }
            allow_ips: ["10.0.0.0/8"]
        """;
    gw =
        GatewayFixture.start(
            dir,
            "  trusted_proxies: [\"127.0.0.1/32\"]\n",
            yaml,
            Map.of("WHSEC", WHSEC, "TOKEN", "t0k3n"),
            clock);
  }

  @AfterAll
  static void stop() {
    gw.close();
  }

  static String sign(String id, long timestamp, byte[] body) {
    byte[] key = Base64.getDecoder().decode(WHSEC.substring("whsec_".length()));
    byte[] content = (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8);
    byte[] signed = new byte[content.length + body.length];
    System.arraycopy(content, 0, signed, 0, content.length);
    System.arraycopy(body, 0, signed, content.length, body.length);
    return "v1," + Base64.getEncoder().encodeToString(Hmac.mac("HmacSHA256", key, signed));
  }

  @Test
  void publishedVectorIsAcceptedAndWebhookIdDeduplicates() throws Exception {
    byte[] body = utf8("{\"test\": 2432232314}");
    Map<String, String> headers =
        Map.of(
            "webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "webhook-timestamp", "1614265330",
            "webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assertThat(sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body))
        .isEqualTo(headers.get("webhook-signature"));
    clock.set(Instant.ofEpochSecond(1614265330));
    HttpResponse<String> first = gw.post("partner", body, headers);
    assertThat(first.statusCode()).isEqualTo(202);
    HttpResponse<String> again = gw.post("partner", body, headers);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(again.body()).path("eventId").asText())
        .isEqualTo(JSON.readTree(first.body()).path("eventId").asText());
  }

  @Test
  void aSvixSignedRequestIsAcceptedUnderSvixHeaderNamesAndSvixIdDeduplicates() throws Exception {
    long sent = 1614265330L;
    clock.set(Instant.ofEpochSecond(sent));
    byte[] body = utf8("{\"type\":\"invoice.paid\"}");
    Map<String, String> headers =
        Map.of(
            "svix-id", "msg_svix_2Lq0",
            "svix-timestamp", Long.toString(sent),
            "svix-signature", sign("msg_svix_2Lq0", sent, body));
    HttpResponse<String> first = gw.post("svix-sender", body, headers);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
    HttpResponse<String> again = gw.post("svix-sender", body, headers);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(again.body()).path("eventId").asText())
        .isEqualTo(JSON.readTree(first.body()).path("eventId").asText());
    String eventId = JSON.readTree(first.body()).path("eventId").asText();
    assertThat(gw.gateway().store().findEvent(new dev.switchboard.domain.EventId(eventId)))
        .hasValueSatisfying(
            event ->
                assertThat(event.headers())
                    .containsKey("svix-id")
                    .doesNotContainKey("svix-signature"));
  }

  @Test
  void aSvixSignatureOverAnotherBodyIsRefused() throws Exception {
    long sent = 1614265330L;
    clock.set(Instant.ofEpochSecond(sent));
    HttpResponse<String> r =
        gw.post(
            "svix-sender",
            utf8("{\"amount\":1000}"),
            Map.of(
                "svix-id", "msg_svix_swapped",
                "svix-timestamp", Long.toString(sent),
                "svix-signature", sign("msg_svix_swapped", sent, utf8("{\"amount\":1}"))));
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(r.body()).path("error").asText()).isEqualTo("signature_rejected");
  }

  @Test
  void staleTimestampIsRefused() throws Exception {
    byte[] body = utf8("{\"n\":1}");
    clock.set(Instant.ofEpochSecond(1614265330).plus(Duration.ofMinutes(6)));
    HttpResponse<String> r =
        gw.post(
            "partner",
            body,
            Map.of(
                "webhook-id", "msg_stale",
                "webhook-timestamp", "1614265330",
                "webhook-signature", sign("msg_stale", 1614265330, body)));
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(r.body()).path("error").asText()).isEqualTo("signature_rejected");
  }

  @Test
  void aTimestampFromTheFutureIsRefused() throws Exception {
    byte[] body = utf8("{\"n\":\"future\"}");
    long sent = 1614265330L;
    clock.set(Instant.ofEpochSecond(sent).minus(Duration.ofMinutes(6)));
    long events = gw.gateway().store().countEvents();
    HttpResponse<String> r =
        gw.post(
            "partner",
            body,
            Map.of(
                "webhook-id", "msg_future",
                "webhook-timestamp", Long.toString(sent),
                "webhook-signature", sign("msg_future", sent, body)));
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(r.body()).path("error").asText()).isEqualTo("signature_rejected");
    assertThat(gw.gateway().store().countEvents()).isEqualTo(events);
  }

  @Test
  void aSignatureOverAnotherBodyIsRefusedAndNothingIsStored() throws Exception {
    long sent = 1614265330L;
    clock.set(Instant.ofEpochSecond(sent));
    byte[] signedBody = utf8("{\"amount\":1}");
    byte[] sentBody = utf8("{\"amount\":1000}");
    long events = gw.gateway().store().countEvents();
    HttpResponse<String> r =
        gw.post(
            "partner",
            sentBody,
            Map.of(
                "webhook-id", "msg_swapped",
                "webhook-timestamp", Long.toString(sent),
                "webhook-signature", sign("msg_swapped", sent, signedBody)));
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(JSON.readTree(r.body()).path("error").asText()).isEqualTo("signature_rejected");
    assertThat(r.body()).doesNotContain("amount");
    assertThat(gw.gateway().store().countEvents()).isEqualTo(events);
  }

  @Test
  void forwardedForFromATrustedProxyDecidesTheAllowList() throws Exception {
    Map<String, String> auth = Map.of("Authorization", "Bearer t0k3n");
    assertThat(gw.post("behind-proxy", utf8("{}"), auth).statusCode()).isEqualTo(403);
    assertThat(
            gw.post(
                    "behind-proxy",
                    utf8("{}"),
                    Map.of("Authorization", "Bearer t0k3n", "X-Forwarded-For", "10.20.30.40"))
                .statusCode())
        .isEqualTo(202);
    assertThat(
            gw.post(
                    "behind-proxy",
                    utf8("{}"),
                    Map.of("Authorization", "Bearer t0k3n", "X-Forwarded-For", "203.0.113.7"))
                .statusCode())
        .isEqualTo(403);
  }

  @Test
  void aClientsOwnForwardedForLineCannotHideTheOneTheProxyAppended() throws Exception {
    java.net.http.HttpRequest request =
        java.net.http.HttpRequest.newBuilder(gw.uri("/hooks/behind-proxy"))
            .header("Content-Type", "application/json")
            .header("Authorization", "Bearer t0k3n")
            .header("X-Forwarded-For", "10.0.0.5")
            .header("X-Forwarded-For", "203.0.113.9")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}"))
            .build();
    assertThat(gw.send(request).statusCode()).isEqualTo(403);
  }
}
