package dev.switchboard.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The strict reading of ingest bodies that docs/hardening.md documents. */
class JsonBodyTest {

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void multiByteUtf8IsAcceptedAndKeptAsText() throws Exception {
    JsonBody.Parsed parsed = JsonBody.parse(utf8("{\"name\":\"Zoë 📞\"}"));
    assertThat(parsed.text()).isEqualTo("{\"name\":\"Zoë 📞\"}");
    assertThat(parsed.value()).isEqualTo(Map.of("name", "Zoë 📞"));
  }

  @Test
  void aUtf8ByteOrderMarkIsIgnoredAndNotKept() throws Exception {
    byte[] withBom = utf8("\uFEFF{\"a\":1}");
    JsonBody.Parsed parsed = JsonBody.parse(withBom);
    assertThat(parsed.text()).isEqualTo("{\"a\":1}");
    assertThat(parsed.value()).isEqualTo(Map.of("a", 1));
  }

  @Test
  void utf16IsRefusedRatherThanGuessed() {
    assertThatThrownBy(() -> JsonBody.parse("{\"a\":1}".getBytes(StandardCharsets.UTF_16LE)))
        .isInstanceOf(JsonBody.Invalid.class);
    assertThatThrownBy(() -> JsonBody.parse("{\"a\":1}".getBytes(StandardCharsets.UTF_16)))
        .isInstanceOf(JsonBody.Invalid.class)
        .hasMessage("the body is not UTF-8 text");
  }

  @Test
  void nestingUpToTheLimitIsAcceptedAndOneMoreIsNot() throws Exception {
    int max = JsonBody.MAX_DEPTH;
    assertThat(JsonBody.parse(utf8("[".repeat(max) + "]".repeat(max))).value())
        .isInstanceOf(List.class);
    assertThatThrownBy(() -> JsonBody.parse(utf8("[".repeat(max + 1) + "]".repeat(max + 1))))
        .isInstanceOf(JsonBody.Invalid.class);
  }

  @Test
  void numbersUpToTheLengthLimitAreAcceptedAndLongerOnesAreNot() throws Exception {
    int max = JsonBody.MAX_NUMBER_CHARS;
    assertThat(JsonBody.parse(utf8("[" + "7".repeat(max) + "]")).value()).isInstanceOf(List.class);
    assertThatThrownBy(() -> JsonBody.parse(utf8("[" + "7".repeat(max + 1) + "]")))
        .isInstanceOf(JsonBody.Invalid.class);
  }

  @Test
  void numbersBeyondADoubleAndNonNumbersAreRefused() throws Exception {
    assertThat(JsonBody.parse(utf8("[1.7976931348623157e308, -4.9e-324, 1e-400]")).value())
        .isInstanceOf(List.class);
    for (String body : List.of("[1e309]", "{\"n\":{\"m\":[-1e400]}}", "[NaN]", "[Infinity]")) {
      assertThatThrownBy(() -> JsonBody.parse(utf8(body)))
          .as(body)
          .isInstanceOf(JsonBody.Invalid.class);
    }
  }

  @Test
  void duplicateNamesAreRefusedAtAnyDepthButTheSameNameInTwoObjectsIsFine() throws Exception {
    assertThatThrownBy(() -> JsonBody.parse(utf8("{\"a\":1,\"a\":1}")))
        .isInstanceOf(JsonBody.Invalid.class);
    assertThatThrownBy(() -> JsonBody.parse(utf8("[{\"x\":{\"k\":1,\"k\":2}}]")))
        .isInstanceOf(JsonBody.Invalid.class);
    assertThat(JsonBody.parse(utf8("[{\"k\":1},{\"k\":2}]")).value()).isInstanceOf(List.class);
  }

  @Test
  void aRefusalNeverQuotesTheBody() {
    assertThatThrownBy(
            () -> JsonBody.parse(utf8("{\"secretValue\":\"hunter2\",\"secretValue\":1}")))
        .isInstanceOf(JsonBody.Invalid.class)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2", "secretValue"));
    assertThatThrownBy(() -> JsonBody.parse(utf8("{\"token\": hunter2}")))
        .isInstanceOf(JsonBody.Invalid.class)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2", "token"));
  }
}
