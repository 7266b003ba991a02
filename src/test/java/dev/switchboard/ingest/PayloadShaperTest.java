package dev.switchboard.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.SourceConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PayloadShaperTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static Object parse(String json) throws Exception {
    return JSON.readValue(json, Object.class);
  }

  @Test
  void removedPathsAreGoneEvenInsideLists() throws Exception {
    Object body =
        parse(
            "{\"a\":1,\"recordingUrls\":[\"x\"],\"parts\":[{\"media\":\"m\",\"k\":1},{\"media\":\"n\"}]}");
    new PayloadShaper(
            Map.of(),
            new SourceConfig.Redact(List.of("recordingUrls", "parts.media"), List.of(), 0))
        .redact(body);
    assertThat(JSON.writeValueAsString(body)).isEqualTo("{\"a\":1,\"parts\":[{\"k\":1},{}]}");
  }

  @Test
  void maskedPhoneNumberKeepsOnlyItsEnds() throws Exception {
    Object body = parse("{\"contact\":{\"phoneNumber\":\"+15550001234\",\"id\":\"c\"}}");
    new PayloadShaper(
            Map.of(), new SourceConfig.Redact(List.of(), List.of("contact.phoneNumber"), 0))
        .redact(body);
    assertThat(JSON.writeValueAsString(body))
        .isEqualTo("{\"contact\":{\"phoneNumber\":\"+1555•••1234\",\"id\":\"c\"}}");
  }

  @Test
  void shortValuesAreMaskedMoreThanHalf() {
    assertThat(PayloadShaper.mask("+15550199")).isEqualTo("+1•••99");
    assertThat(PayloadShaper.mask("abc")).isEqualTo("•••");
  }

  @Test
  void longStringsAreTruncatedWithAMarker() throws Exception {
    Object body =
        parse(
            "{\"notes\":\""
                + "n".repeat(50)
                + "\",\"list\":[\""
                + "l".repeat(30)
                + "\"],\"short\":\"ok\"}");
    new PayloadShaper(Map.of(), new SourceConfig.Redact(List.of(), List.of(), 10)).redact(body);
    String out = JSON.writeValueAsString(body);
    assertThat(out)
        .contains("\"notes\":\"nnnnnnnnnn…[truncated 40 chars]\"")
        .contains("\"llllllllll…[truncated 20 chars]\"")
        .contains("\"short\":\"ok\"");
  }

  @Test
  void aliasesMoveDriftedFieldsAndKeepUnknownOnes() throws Exception {
    Object body = parse("{\"call\":{\"durationSeconds\":142},\"extra\":true}");
    new PayloadShaper(
            Map.of("call.durationSeconds", "callDurationSeconds"), SourceConfig.Redact.NONE)
        .normalise(body);
    assertThat(JSON.writeValueAsString(body))
        .isEqualTo("{\"call\":{},\"extra\":true,\"callDurationSeconds\":142}");
  }

  @Test
  void aliasNeverOverwritesAFieldThatIsAlreadyThere() throws Exception {
    Object body = parse("{\"old\":1,\"new\":2}");
    new PayloadShaper(Map.of("old", "new"), SourceConfig.Redact.NONE).normalise(body);
    assertThat(JSON.writeValueAsString(body)).isEqualTo("{\"old\":1,\"new\":2}");
  }
}
