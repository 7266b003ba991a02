package dev.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.expr.ExpressionException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnrichPathTest {
  static final Map<String, Object> EVENT =
      Map.of("id", "../../x?y=1#z", "n", 42.0, "space", "a b'c", "dots", "..", "obj", Map.of());

  @Test
  void aTemplateEncodesEachPlaceholderAsOneSegment() {
    EnrichPath p = EnrichPath.template("/api/v2/conversations/{id}/details/{n}");
    assertThat(p.render(EVENT, Map.of()))
        .isEqualTo("/api/v2/conversations/..%2F..%2Fx%3Fy%3D1%23z/details/42");
    assertThat(EnrichPath.template("/a/{$eventId}").render(EVENT, Map.of("eventId", "évt 1")))
        .isEqualTo("/a/%C3%A9vt%201");
  }

  @Test
  void aGetConcatenationEncodesItsValuesAndKeepsItsText() {
    EnrichPath p = EnrichPath.concatenation("'/api/v2/conversations/' & space & \"/details\"");
    assertThat(p.render(EVENT, Map.of())).isEqualTo("/api/v2/conversations/a%20b%27c/details");
    assertThat(EnrichPath.concatenation("'/a/' & $string(n) & '/b'").render(EVENT, Map.of()))
        .isEqualTo("/a/42/b");
  }

  @Test
  void aValueThatIsNoSegmentFailsTheSameWayEveryTime() {
    EnrichPath p = EnrichPath.template("/a/{dots}");
    assertThatThrownBy(() -> p.render(EVENT, Map.of())).isInstanceOf(ExpressionException.class);
    assertThatThrownBy(() -> EnrichPath.template("/a/{missing}").render(EVENT, Map.of()))
        .isInstanceOf(ExpressionException.class);
    assertThatThrownBy(() -> EnrichPath.template("/a/{obj}").render(EVENT, Map.of()))
        .isInstanceOf(ExpressionException.class);
  }

  @Test
  void aGetThatIsNotTextAndValuesJoinedIsRefused() {
    for (String get :
        new String[] {
          "'/a/' & id + 1", "'/a/' & (id) & '/' & x or y", "id ? '/a' : '/b'", "'/a/' & a - b"
        }) {
      assertThatThrownBy(() -> EnrichPath.concatenation(get))
          .as(get)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> EnrichPath.concatenation("id & '/details'"))
        .hasMessageContaining("single /");
  }

  @Test
  void anAbsolutePathMustBeOnTheEnrichersApi() {
    EnrichPath p = EnrichPath.template("https://API.mypurecloud.com/api/v2/x/{id}");
    assertThat(p.isUnder("https://api.mypurecloud.com")).isTrue();
    assertThat(p.isUnder("https://api.mypurecloud.com:443/")).isTrue();
    assertThat(p.isUnder("https://api.mypurecloud.com.evil")).isFalse();
    assertThat(p.isUnder("http://api.mypurecloud.com")).isFalse();
    assertThat(p.relativeTo("https://api.mypurecloud.com").render(Map.of("id", "1"), Map.of()))
        .isEqualTo("/api/v2/x/1");
    assertThat(
            EnrichPath.template("http://h:8/base/v2/{id}")
                .relativeTo("http://h:8/base")
                .render(Map.of("id", "1"), Map.of()))
        .isEqualTo("/v2/1");
    assertThat(EnrichPath.template("http://h:8/basement/{id}").isUnder("http://h:8/base"))
        .isFalse();
    assertThatThrownBy(() -> EnrichPath.template("https://{host}/x")).hasMessageContaining("host");
  }
}
