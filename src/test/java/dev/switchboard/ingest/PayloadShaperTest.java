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

  @Test
  void coercedValuesConvertWhenTheyCleanlyCanAndAreLeftAsSentOtherwise() throws Exception {
    Object body =
        parse(
            "{\"call\":{\"durationSeconds\":\" 45 \"},\"parts\":[{\"n\":\"4.5\"},{\"n\":\"x\"}],"
                + "\"count\":\"45.0\",\"half\":\"4.5\",\"code\":7,\"ratio\":0.25,"
                + "\"done\":\"TRUE\",\"flag\":1,\"other\":\"yes\",\"missing\":null}");
    Map<String, SourceConfig.Coerce> rules = new java.util.LinkedHashMap<>();
    rules.put("call.durationSeconds", SourceConfig.Coerce.NUMBER);
    rules.put("parts.n", SourceConfig.Coerce.NUMBER);
    rules.put("count", SourceConfig.Coerce.INTEGER);
    rules.put("half", SourceConfig.Coerce.INTEGER);
    rules.put("code", SourceConfig.Coerce.STRING);
    rules.put("ratio", SourceConfig.Coerce.STRING);
    rules.put("done", SourceConfig.Coerce.BOOLEAN);
    rules.put("flag", SourceConfig.Coerce.BOOLEAN);
    rules.put("other", SourceConfig.Coerce.BOOLEAN);
    rules.put("missing", SourceConfig.Coerce.NUMBER);
    rules.put("absent.path", SourceConfig.Coerce.NUMBER);
    List<String> coerced =
        new PayloadShaper(Map.of(), SourceConfig.Redact.NONE, rules).coerce(body);
    assertThat(coerced)
        .containsExactly(
            "call.durationSeconds", "parts.n", "count", "code", "ratio", "done", "flag");
    assertThat(JSON.writeValueAsString(body))
        .isEqualTo(
            "{\"call\":{\"durationSeconds\":45},\"parts\":[{\"n\":4.5},{\"n\":\"x\"}],"
                + "\"count\":45,\"half\":\"4.5\",\"code\":\"7\",\"ratio\":\"0.25\","
                + "\"done\":true,\"flag\":true,\"other\":\"yes\",\"missing\":null}");
  }

  @Test
  void textThatIsNotAJsonNumberStaysText() {
    for (String text : List.of("", " ", "45 s", "+45", "0x10", "NaN", "Infinity", "1e999", "[1]")) {
      assertThat(PayloadShaper.converted(text, SourceConfig.Coerce.NUMBER)).as(text).isSameAs(text);
    }
    assertThat(PayloadShaper.converted("-1.5e3", SourceConfig.Coerce.NUMBER)).isEqualTo(-1500.0);
    assertThat(PayloadShaper.converted("12345678901234", SourceConfig.Coerce.INTEGER))
        .isEqualTo(12345678901234L);
  }
}
