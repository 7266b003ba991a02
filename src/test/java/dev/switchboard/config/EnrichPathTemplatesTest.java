package dev.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.expr.ExpressionException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parts of {@link EnrichPath} the {@code http} destination's templates use. */
class EnrichPathTemplatesTest {

  @Test
  void variablesAreTheBindingsReadNotFunctionsRootOrOwnNames() {
    EnrichPath path =
        EnrichPath.template(
            "/v1/{$contact.id}/{$string(ticketId)}/{$$.a}/{($x := $eventId; $x)}"
                + "/{$map(items, function($v) { $v & $source })}/{'$quoted'}");

    assertThat(path.variables()).containsExactly("contact", "eventId", "source");
  }

  @Test
  void aHeaderValueIsFilledAsItIsAndALineBreakRefused() {
    EnrichPath header = EnrichPath.text("Bearer {token} for {$eventId}");

    assertThat(header.fill(Map.of("token", "a/b c"), Map.of("eventId", "e-1")))
        .isEqualTo("Bearer a/b c for e-1");
    assertThatThrownBy(() -> header.fill(Map.of("token", "x\r\nEvil: 1"), Map.of("eventId", "e")))
        .isInstanceOf(ExpressionException.class)
        .hasMessage("{token} holds a line break or control character in this event")
        .hasMessageNotContaining("Evil");
  }

  @Test
  void oneSegmentEncodingKeepsOnlyUnreservedCharacters() {
    assertThat(EnrichPath.encodeSegment("../a b?c#d&e=f/é~_.-"))
        .isEqualTo("..%2Fa%20b%3Fc%23d%26e%3Df%2F%C3%A9~_.-");
  }

  @Test
  void theShapeReplacesEachPlaceholder() {
    assertThat(EnrichPath.template("/a/{b}?c={$d}").withPlaceholders(s -> "<" + s + ">"))
        .isEqualTo("/a/<b>?c=<$d>");
  }
}
