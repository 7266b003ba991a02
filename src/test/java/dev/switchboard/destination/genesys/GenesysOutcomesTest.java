package dev.switchboard.destination.genesys;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.ErrorClass;
import dev.switchboard.destination.http.HttpTransport.Answer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GenesysOutcomesTest {
  private static final Instant NOW = Instant.parse("2026-04-14T10:00:00Z");

  static Answer answer(int status, Map<String, String> headers, String body) {
    return new Answer(status, headers::get, body);
  }

  static String error(int status, String code, String message) {
    return "{\"message\":\"%s\",\"code\":\"%s\",\"status\":%d,\"contextId\":\"c-1\",\"details\":[],\"errors\":[]}"
        .formatted(message, code, status);
  }

  @Test
  void aServerErrorIsRetriedAndKeepsItsRetryAfter() {
    var result =
        GenesysOutcomes.of(
            answer(503, Map.of("Retry-After", "7"), error(503, "service.unavailable", "Try later")),
            NOW);

    assertThat(result)
        .isInstanceOfSatisfying(
            RetryLater.class,
            r -> {
              assertThat(r.errorClass()).isEqualTo(ErrorClass.HTTP_5XX);
              assertThat(r.retryAfter()).isEqualTo(Duration.ofSeconds(7));
              assertThat(r.error()).isEqualTo("genesys 503 service.unavailable: Try later");
            });
  }

  @Test
  void aMissingPermissionIsDeadWithCodeAndMessage() {
    var result =
        GenesysOutcomes.of(
            answer(
                403,
                Map.of(),
                error(
                    403, "missing.any.permissions", "You must have conversation:callback:create")),
            NOW);

    assertThat(result)
        .isInstanceOfSatisfying(
            Rejected.class,
            r ->
                assertThat(r.error())
                    .isEqualTo(
                        "genesys 403 missing.any.permissions: You must have"
                            + " conversation:callback:create"));
  }

  @Test
  void anAnswerWithoutGenesysBodyIsNamedByItsStatusAndA2xxIsDelivered() {
    assertThat(GenesysOutcomes.of(answer(502, Map.of(), "<html>bad gateway</html>"), NOW))
        .isInstanceOfSatisfying(
            RetryLater.class, r -> assertThat(r.error()).isEqualTo("genesys 502"));
    assertThat(GenesysOutcomes.of(answer(202, Map.of(), ""), NOW))
        .isEqualTo(new Delivered(202, ""));
    assertThat(GenesysOutcomes.of(answer(401, Map.of(), ""), NOW)).isInstanceOf(RetryLater.class);
  }
}
