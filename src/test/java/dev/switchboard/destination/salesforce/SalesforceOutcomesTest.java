package dev.switchboard.destination.salesforce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.DeliveryResult;
import dev.switchboard.destination.DeliveryResult.Delivered;
import dev.switchboard.destination.DeliveryResult.Rejected;
import dev.switchboard.destination.DeliveryResult.RetryLater;
import dev.switchboard.destination.http.HttpTransport.Answer;
import dev.switchboard.testing.DestinationConfigs;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SalesforceOutcomesTest {
  final SalesforceOutcomes outcomes =
      new SalesforceOutcomes("Interaction_ID__c", Clock.systemUTC());

  static Answer answer(int status, String limitInfo, String body) {
    return new Answer(
        status, name -> name.equalsIgnoreCase("Sforce-Limit-Info") ? limitInfo : null, body);
  }

  static Duration slowdown(String limitInfo) {
    return SalesforceOutcomes.slowdown(answer(200, limitInfo, ""));
  }

  @Test
  void theLimitHeaderSlowsFrom90PercentSixSecondsAPointUpToAMinute() {
    assertThat(slowdown(null)).isNull();
    assertThat(slowdown("api-usage=18/5000")).isNull();
    assertThat(slowdown("api-usage=89/100")).isNull();
    assertThat(slowdown("api-usage=90/100")).isEqualTo(Duration.ofSeconds(6));
    assertThat(slowdown("api-usage=950/1000; api-bursts=1/750")).isEqualTo(Duration.ofSeconds(36));
    assertThat(slowdown("api-usage=99/100")).isEqualTo(Duration.ofMinutes(1));
    assertThat(slowdown("api-usage=110018/100000"))
        .as("used may exceed max")
        .isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void onlyTheOrgsApiUsageCountsNotThePerAppUsage() {
    assertThat(slowdown("api-usage=18/5000; per-app-api-usage=249/250(appName=switchboard)"))
        .isNull();
    assertThat(slowdown("per-app-api-usage=249/250(appName=x); api-usage=4900/5000"))
        .isEqualTo(Duration.ofSeconds(54));
    assertThat(slowdown("api-usage=abc/100")).isNull();
    assertThat(slowdown("api-usage=5/0")).isNull();
  }

  @Test
  void anAnswerIsClassifiedBySalesforcesErrorCodeNotOnlyItsStatus() {
    String lock =
        "[{\"message\":\"unable to obtain exclusive access to this record or 1 records: a0X\","
            + "\"errorCode\":\"UNABLE_TO_LOCK_ROW\"}]";
    assertThat(outcomes.of(answer(400, null, lock))).isInstanceOf(RetryLater.class);
    String maintenance =
        "[{\"errorCode\":\"INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE\",\"message\":\"m\"}]";
    assertThat(outcomes.of(answer(400, null, maintenance))).isInstanceOf(RetryLater.class);
    String required =
        "[{\"message\":\"Required fields are missing: [Website__c]\","
            + "\"errorCode\":\"REQUIRED_FIELD_MISSING\",\"fields\":[\"Website__c\"]}]";
    DeliveryResult dead = outcomes.of(answer(400, null, required));
    assertThat(((Rejected) dead).error())
        .isEqualTo("salesforce REQUIRED_FIELD_MISSING: Required fields are missing: [Website__c]");
    String forbidden = "[{\"errorCode\":\"INSUFFICIENT_ACCESS\",\"message\":\"no\"}]";
    assertThat(outcomes.of(answer(403, null, forbidden))).isInstanceOf(Rejected.class);
    assertThat(outcomes.of(answer(410, null, "[]"))).isInstanceOf(Rejected.class);
    assertThat(((RetryLater) outcomes.of(answer(502, null, "<html>bad gateway</html>"))).error())
        .isEqualTo("salesforce 502");
  }

  @Test
  void aSuccessfulAnswerCarriesTheSlowdownAndAFailedOneKeepsItsWait() {
    assertThat(((Delivered) outcomes.of(answer(204, "api-usage=95/100", ""))).pauseFor())
        .isEqualTo(Duration.ofSeconds(36));
    assertThat(((RetryLater) outcomes.of(answer(503, "api-usage=95/100", ""))).retryAfter())
        .isEqualTo(Duration.ofSeconds(36));
  }

  @Test
  void collectionItemsAreMatchedToTheirRecordsInOrder() {
    String items =
        "[{\"id\":\"a0X1\",\"success\":true,\"errors\":[],\"created\":true},"
            + "{\"success\":false,\"errors\":[{\"statusCode\":\"MALFORMED_ID\",\"message\":\"bad id\","
            + "\"fields\":[\"Id\"]}]},"
            + "{\"success\":false,\"errors\":[{\"statusCode\":\"UNABLE_TO_LOCK_ROW\",\"message\":\"x\"}]},"
            + "{\"id\":\"a0X2\",\"success\":true,\"errors\":[],\"created\":false}]";
    List<DeliveryResult> results = outcomes.ofCollection(answer(200, null, items), 4);
    assertThat(((Delivered) results.get(0)).status()).isEqualTo(201);
    assertThat(((Rejected) results.get(1)).error()).isEqualTo("salesforce MALFORMED_ID: bad id");
    assertThat(((Rejected) results.get(1)).status()).isEqualTo(400);
    assertThat(results.get(2)).isInstanceOf(RetryLater.class);
    assertThat(((Delivered) results.get(3)).status()).isEqualTo(200);

    assertThat(outcomes.ofCollection(answer(200, null, items), 3))
        .as("a count that does not match is tried again, never guessed")
        .allMatch(r -> r instanceof RetryLater);
    assertThat(outcomes.ofCollection(answer(500, null, "oops"), 2))
        .allMatch(r -> r instanceof RetryLater);
  }

  @Test
  void anExternalIdIsEncodedAsOnePathSegment() {
    assertThat(SalesforceDestination.pathSegment("a b/c+d?e#f")).isEqualTo("a%20b%2Fc%2Bd%3Fe%23f");
  }

  @Test
  void settingsRefuseNamesThatCannotGoIntoAPathAndNeverPrintTheSecret() {
    Map<String, Object> s = new HashMap<>();
    s.put("login_url", "https://acme.my.salesforce.com/");
    s.put("client_id", "id");
    s.put("client_secret", "s3cr3t-value");
    s.put("object", "Disposition_Log__c");
    s.put("external_id_field", "Interaction_ID__c");
    SalesforceSettings settings = ((SalesforceSettings) config(s).settings());
    assertThat(settings.loginUrl().toString()).isEqualTo("https://acme.my.salesforce.com");
    assertThat(settings.apiVersion()).isEqualTo("62.0");
    assertThat(settings.batchSize()).isEqualTo(1);
    assertThat(settings.toString()).doesNotContain("s3cr3t-value");
    s.put("object", "../limits");
    assertThatThrownBy(() -> new SalesforceDestination(config(s), Clock.systemUTC()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("object:");
  }

  static DestinationConfig config(Map<String, Object> settings) {
    return DestinationConfigs.load("sf", "salesforce", settings, null, 1);
  }
}
