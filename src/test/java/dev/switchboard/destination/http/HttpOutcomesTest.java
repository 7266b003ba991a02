package dev.switchboard.destination.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.ErrorClass;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HttpOutcomesTest {
  private static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");
  private static final HttpOutcomes.Headers NONE = headers();
  private static final String SECRET_URL =
      "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX";

  /** Looked up without regard to case, as an HTTP client does. */
  private static HttpOutcomes.Headers headers(String... namesAndValues) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      map.put(namesAndValues[i].toLowerCase(Locale.ROOT), namesAndValues[i + 1]);
    }
    return name -> map.get(name.toLowerCase(Locale.ROOT));
  }

  private static String httpDate(Instant at) {
    return DateTimeFormatter.RFC_1123_DATE_TIME.format(at.atOffset(ZoneOffset.UTC));
  }

  // ---- answers ----

  @ParameterizedTest
  @ValueSource(ints = {200, 201, 202, 204, 299})
  void twoHundredsAreDelivered(int status) {
    assertThat(HttpOutcomes.of(status, NONE, "ok", NOW)).isEqualTo(new Delivered(status, "ok"));
  }

  @ParameterizedTest
  @ValueSource(ints = {408, 425, 429, 500, 502, 503, 504, 599})
  void throttlingTimeoutsAndServerErrorsAreRetried(int status) {
    assertThat(HttpOutcomes.of(status, NONE, "busy", NOW))
        .isEqualTo(new RetryLater("http " + status, status, null, "busy"));
  }

  @Test
  void a429CarriesTheRetryAfterItWasGiven() {
    DeliveryResult result = HttpOutcomes.of(429, headers("Retry-After", "120"), "slow down", NOW);
    assertThat(result)
        .isEqualTo(new RetryLater("http 429", 429, Duration.ofSeconds(120), "slow down"));
  }

  @Test
  void a503CarriesTheRetryAfterItWasGiven() {
    DeliveryResult result =
        HttpOutcomes.of(503, headers("retry-after", httpDate(NOW.plusSeconds(30))), null, NOW);
    assertThat(result).isEqualTo(new RetryLater("http 503", 503, Duration.ofSeconds(30), null));
  }

  @Test
  void goneAsksForTheEndpointToBeDisabled() {
    assertThat(HttpOutcomes.of(410, NONE, "channel_is_archived", NOW))
        .isEqualTo(
            new Rejected(
                "gone: the receiver asked to disable this endpoint", 410, "channel_is_archived"));
  }

  @ParameterizedTest
  @ValueSource(ints = {301, 302, 303, 307, 308})
  void redirectsAreRefusedNotFollowed(int status) {
    DeliveryResult result =
        HttpOutcomes.of(status, headers("Location", "https://elsewhere.example/"), null, NOW);
    assertThat(result)
        .isEqualTo(new Rejected("http " + status + ": redirects are not followed", status, null));
  }

  @ParameterizedTest
  @ValueSource(ints = {400, 401, 403, 404, 409, 413, 422, 451, 499})
  void otherClientErrorsAreRefusedForGood(int status) {
    assertThat(HttpOutcomes.of(status, NONE, "invalid_payload", NOW))
        .isEqualTo(new Rejected("http " + status, status, "invalid_payload"));
  }

  @Test
  void aRejectionIgnoresRetryAfter() {
    assertThat(HttpOutcomes.of(404, headers("Retry-After", "60"), "no_service", NOW))
        .isEqualTo(new Rejected("http 404", 404, "no_service"));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 100, 199, 600, 999})
  void statusesOutsideHttpAreRefused(int status) {
    assertThat(HttpOutcomes.of(status, NONE, null, NOW))
        .isEqualTo(new Rejected("http " + status + ": unexpected status", status, null));
  }

  // ---- Retry-After and rate-limit headers ----

  @Test
  void retryAfterInSeconds() {
    assertThat(HttpOutcomes.retryAfter(headers("Retry-After", "120"), NOW))
        .isEqualTo(Duration.ofSeconds(120));
    assertThat(HttpOutcomes.retryAfter(headers("Retry-After", " 0 "), NOW))
        .isEqualTo(Duration.ZERO);
  }

  @Test
  void retryAfterAsAnHttpDateIsMeasuredFromNow() {
    String in30s = httpDate(NOW.plusSeconds(30));
    assertThat(in30s).isEqualTo("Sat, 1 Mar 2025 12:00:30 GMT");
    assertThat(HttpOutcomes.retryAfter(headers("Retry-After", in30s), NOW))
        .isEqualTo(Duration.ofSeconds(30));
    assertThat(
            HttpOutcomes.retryAfter(headers("Retry-After", "Sat, 01 Mar 2025 12:00:30 GMT"), NOW))
        .isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void retryAfterInThePastMeansNow() {
    assertThat(HttpOutcomes.retryAfter(headers("Retry-After", httpDate(NOW.minusSeconds(90))), NOW))
        .isEqualTo(Duration.ZERO);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "soon",
        "-5",
        "1.5",
        "",
        "99999999999999999999999",
        "Sat, 1 Mar 2025 25:00:00 GMT",
        "Saturday, 01-Mar-25 12:00:30 GMT"
      })
  void unreadableRetryAfterIsIgnored(String value) {
    assertThat(HttpOutcomes.retryAfter(headers("Retry-After", value), NOW)).isNull();
    assertThat(HttpOutcomes.of(503, headers("Retry-After", value), null, NOW))
        .isEqualTo(new RetryLater("http 503", 503, null, null));
  }

  @Test
  void noHeadersMeansNoWish() {
    assertThat(HttpOutcomes.retryAfter(NONE, NOW)).isNull();
    assertThat(HttpOutcomes.retryAfter(null, NOW)).isNull();
  }

  @Test
  void exhaustedRateLimitWaitsForTheResetInSeconds() {
    assertThat(
            HttpOutcomes.retryAfter(
                headers("X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Reset", "42"), NOW))
        .isEqualTo(Duration.ofSeconds(42));
    assertThat(
            HttpOutcomes.retryAfter(
                headers("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "2.5"), NOW))
        .isEqualTo(Duration.ofMillis(2_500));
  }

  @Test
  void exhaustedRateLimitWaitsForTheResetAsAnEpochTimestamp() {
    String reset = Long.toString(NOW.plusSeconds(75).getEpochSecond());
    assertThat(
            HttpOutcomes.retryAfter(
                headers("x-ratelimit-remaining", "0", "x-ratelimit-reset", reset), NOW))
        .isEqualTo(Duration.ofSeconds(75));
    String past = Long.toString(NOW.minusSeconds(5).getEpochSecond());
    assertThat(
            HttpOutcomes.retryAfter(
                headers("X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Reset", past), NOW))
        .isEqualTo(Duration.ZERO);
  }

  @Test
  void rateLimitHeadersMatterOnlyWhenNothingRemains() {
    assertThat(
            HttpOutcomes.retryAfter(
                headers("X-Rate-Limit-Remaining", "3", "X-Rate-Limit-Reset", "42"), NOW))
        .isNull();
    assertThat(HttpOutcomes.retryAfter(headers("X-Rate-Limit-Reset", "42"), NOW)).isNull();
    assertThat(HttpOutcomes.retryAfter(headers("X-Rate-Limit-Remaining", "0"), NOW)).isNull();
  }

  @Test
  void unreadableRateLimitResetIsIgnored() {
    for (String reset : List.of("later", "-1", "1e3", "9999999999999999999999")) {
      assertThat(
              HttpOutcomes.retryAfter(
                  headers("X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Reset", reset), NOW))
          .as(reset)
          .isNull();
    }
  }

  @Test
  void retryAfterTakesPrecedenceOverRateLimitHeaders() {
    HttpOutcomes.Headers both =
        headers("Retry-After", "7", "X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Reset", "42");
    assertThat(HttpOutcomes.retryAfter(both, NOW)).isEqualTo(Duration.ofSeconds(7));
    HttpOutcomes.Headers garbledRetryAfter =
        headers("Retry-After", "soon", "X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Reset", "42");
    assertThat(HttpOutcomes.retryAfter(garbledRetryAfter, NOW)).isEqualTo(Duration.ofSeconds(42));
  }

  // ---- no answer ----

  @Test
  void timeoutsAreRetried() {
    assertThat(HttpOutcomes.ofFailure(new HttpTimeoutException("request timed out")))
        .isEqualTo(RetryLater.noAnswer(ErrorClass.TIMEOUT, "timeout", null, null));
    assertThat(HttpOutcomes.ofFailure(new SocketTimeoutException("Read timed out")))
        .isEqualTo(RetryLater.noAnswer(ErrorClass.TIMEOUT, "timeout", null, null));
    assertThat(
            HttpOutcomes.ofFailure(
                new org.apache.hc.client5.http.ConnectTimeoutException("Connect timed out")))
        .isEqualTo(RetryLater.noAnswer(ErrorClass.TIMEOUT, "timeout", null, null));
    assertThat(HttpOutcomes.ofFailure(new HttpConnectTimeoutException("HTTP connect timed out")))
        .isEqualTo(RetryLater.noAnswer(ErrorClass.TIMEOUT, "timeout", null, null));
  }

  @Test
  void connectionFailuresAreRetriedWithTheirKind() {
    assertThat(HttpOutcomes.ofFailure(new ConnectException("Connection refused")))
        .isEqualTo(
            RetryLater.noAnswer(
                ErrorClass.CONNECTION, "connection error: ConnectException", null, null));
    assertThat(HttpOutcomes.ofFailure(new UnknownHostException("hooks.example")))
        .isEqualTo(
            RetryLater.noAnswer(
                ErrorClass.CONNECTION, "connection error: UnknownHostException", null, null));
    assertThat(HttpOutcomes.ofFailure(new SSLHandshakeException("PKIX path building failed")))
        .isEqualTo(
            RetryLater.noAnswer(
                ErrorClass.CONNECTION, "connection error: SSLHandshakeException", null, null));
    assertThat(HttpOutcomes.ofFailure(new IOException("HTTP/1.1 header parser received no bytes")))
        .isEqualTo(
            RetryLater.noAnswer(
                ErrorClass.CONNECTION, "connection error: IOException", null, null));
  }

  @Test
  void asyncWrappersAreSeenThrough() {
    assertThat(HttpOutcomes.ofFailure(new CompletionException(new ConnectException("refused"))))
        .isEqualTo(
            RetryLater.noAnswer(
                ErrorClass.CONNECTION, "connection error: ConnectException", null, null));
    assertThat(
            HttpOutcomes.ofFailure(
                new ExecutionException(new HttpConnectTimeoutException("timed out"))))
        .isEqualTo(RetryLater.noAnswer(ErrorClass.TIMEOUT, "timeout", null, null));
    assertThat(HttpOutcomes.ofFailure(new UncheckedIOException(new EOFException())))
        .isEqualTo(
            RetryLater.noAnswer(
                ErrorClass.CONNECTION, "connection error: EOFException", null, null));
  }

  @Test
  void anythingElseIsRetriedAsUnexpected() {
    assertThat(HttpOutcomes.ofFailure(new IllegalStateException("boom")))
        .isEqualTo(
            RetryLater.noAnswer(
                ErrorClass.ERROR, "unexpected error: IllegalStateException", null, null));
  }

  @Test
  void noResultTextEverCarriesTheUrl() {
    List<Throwable> failures =
        List.of(
            new ConnectException("Connection refused: " + SECRET_URL),
            new IOException("failed to reach http://user:pass@internal.example/hook?sig=abc"),
            new HttpTimeoutException("request to " + SECRET_URL + " timed out"),
            new HttpConnectTimeoutException("connect to " + SECRET_URL),
            new CompletionException(new ConnectException(SECRET_URL)),
            new IllegalArgumentException("invalid URI " + SECRET_URL),
            new IOException("redirect to http://evil.example/") {});
    for (Throwable failure : failures) {
      DeliveryResult result = HttpOutcomes.ofFailure(failure);
      assertThat(result.toString())
          .as(failure.toString())
          .doesNotContain("http://")
          .doesNotContain("https://")
          .doesNotContain("hooks.slack.com");
    }
  }

  // ---- excerpts ----

  @Test
  void excerptKeepsShortBodiesWhole() {
    assertThat(HttpOutcomes.excerpt("ok", 10)).isEqualTo("ok");
    assertThat(HttpOutcomes.excerpt("0123456789", 10)).isEqualTo("0123456789");
    assertThat(HttpOutcomes.excerpt("", 10)).isEmpty();
  }

  @Test
  void excerptCutsLongBodiesAndSaysSo() {
    assertThat(HttpOutcomes.excerpt("0123456789abc", 10)).isEqualTo("0123456789…");
  }

  @Test
  void excerptPutsEverythingOnOneLine() {
    assertThat(HttpOutcomes.excerpt("{\n  \"ok\": false,\r\n  \"error\": \"x\"\n}\n", 100))
        .isEqualTo("{ \"ok\": false, \"error\": \"x\" }");
    assertThat(HttpOutcomes.excerpt("a\n\n\nb", 100)).isEqualTo("a b");
  }

  @Test
  void excerptNeverSplitsACharacter() {
    assertThat(HttpOutcomes.excerpt("ab😀cd", 3)).isEqualTo("ab…");
  }

  @Test
  void excerptOfNothingIsNothing() {
    assertThat(HttpOutcomes.excerpt(null, 10)).isNull();
  }
}
