package dev.switchboard.expr;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The native simple form must give exactly what JSONata gives, or step aside. */
class SimpleFormTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static final List<String> EXPRESSIONS =
      List.of(
          "interactionId & '|' & timestamp",
          "interactionId&\"|\"&timestamp",
          "id",
          "detail.eventBody.conversationId",
          "detail.eventBody.eventTime",
          "conversation.id & '-' & n",
          "flag & ':' & missing.deep",
          "list.name",
          "obj",
          "nothing",
          // found by ExpressionFuzzTest: JSONata reads a control character as part of a name,
          // where Character.isWhitespace had the simple form skip it
          "\u001einteractionId & '|' & timestamp",
          "interactionId\u001c & '|' & timestamp");

  static final List<String> INPUTS =
      List.of(
          "{\"interactionId\":\"i-1\",\"timestamp\":\"2026-10-27T14:30:00Z\"}",
          "{\"interactionId\":\"i-1\"}",
          "{\"interactionId\":42,\"timestamp\":true}",
          "{\"interactionId\":null,\"timestamp\":\"t\"}",
          "{\"interactionId\":1.5,\"timestamp\":\"t\"}",
          "{\"id\":\"e-1\",\"detail\":{\"eventBody\":{\"conversationId\":\"c-1\",\"eventTime\":1776161731842}}}",
          "{\"detail\":{\"eventBody\":[{\"conversationId\":\"a\"},{\"conversationId\":\"b\"}]}}",
          "{\"conversation\":{\"id\":\"c\"},\"n\":7,\"flag\":false}",
          "{\"list\":[{\"name\":\"x\"},{\"name\":\"y\"}],\"obj\":{\"a\":1}}",
          "{\"id\":[1,2],\"obj\":\"text\"}",
          "{\"id\":12345678901234567890}",
          "[1,2,3]",
          "\"just a string\"");

  @Test
  void simpleFormAgreesWithJsonataOnEveryInput() throws Exception {
    for (String text : EXPRESSIONS) {
      Expression expression = Expression.compile(text);
      for (String json : INPUTS) {
        Object input = JSON.readValue(json, Object.class);
        Object ours = expression.evaluate(input, Map.of());
        Object jsonata = expression.evaluateWithJsonata(input, Map.of());
        assertThat(JSON.writeValueAsString(ours))
            .as("%s on %s", text, json)
            .isEqualTo(JSON.writeValueAsString(jsonata));
      }
    }
  }

  @Test
  void onlyPathsAndConcatenationsAreTakenNatively() {
    assertThat(SimpleForm.parse("interactionId & '|' & timestamp")).isNotNull();
    assertThat(SimpleForm.parse("a.b.c")).isNotNull();
    assertThat(SimpleForm.parse("$headers.'webhook-id'")).isNull();
    assertThat(SimpleForm.parse("a + b")).isNull();
    assertThat(SimpleForm.parse("'constant'")).isNull();
    assertThat(SimpleForm.parse("true")).isNull();
    assertThat(SimpleForm.parse("a[0]")).isNull();
    assertThat(SimpleForm.parse("`detail-type`")).isNull();
    assertThat(SimpleForm.parse("$string(a)")).isNull();
    assertThat(SimpleForm.parse("a & 'it\\'s'")).isNull();
  }

  @Test
  void largeNumbersStayDistinctAsKeyText() {
    Expression total = Expression.compile("n * 1");
    String a = total.evaluateToString(Map.of("n", 1e19), Map.of());
    String b = total.evaluateToString(Map.of("n", 2e19), Map.of());
    assertThat(a).isNotEqualTo(b);
    assertThat(total.evaluateToString(Map.of("n", 142), Map.of())).isEqualTo("142");
  }
}
