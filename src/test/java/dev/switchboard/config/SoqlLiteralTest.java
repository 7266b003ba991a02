package dev.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.expr.ExpressionException;
import java.math.BigDecimal;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Values from an event bound into a {@code query:} as SOQL literals (docs/enrichment.md). */
class SoqlLiteralTest {

  @Test
  void textIsQuotedWithEveryReservedCharacterEscaped() {
    assertThat(SoqlLiteral.of("Bob's BBQ", false)).isEqualTo("'Bob\\'s BBQ'");
    assertThat(SoqlLiteral.of("C:\\temp\\", false)).isEqualTo("'C:\\\\temp\\\\'");
    assertThat(SoqlLiteral.of("say \"hi\"", false)).isEqualTo("'say \\\"hi\\\"'");
    assertThat(SoqlLiteral.of("a\nb\rc\td\be\ff", false)).isEqualTo("'a\\nb\\rc\\td\\be\\ff'");
    assertThat(SoqlLiteral.of("bell\u0007nul\u0000", false)).isEqualTo("'bell\\u0007nul\\u0000'");
    assertThat(SoqlLiteral.of("é 日本 +1 (555)", false)).isEqualTo("'é 日本 +1 (555)'");
  }

  @Test
  void anInjectionAttemptStaysOneLiteral() {
    String literal = SoqlLiteral.of("' OR Name != '", false);
    assertThat(literal).isEqualTo("'\\' OR Name != \\''");
    // every quote inside is escaped: the literal ends only at its last character
    assertThat(unescapedQuotes(literal)).containsExactly(0, literal.length() - 1);
    String backslashFirst = SoqlLiteral.of("\\' OR Id != null OR Name = '\\", false);
    assertThat(unescapedQuotes(backslashFirst)).containsExactly(0, backslashFirst.length() - 1);
  }

  @Test
  void wildcardsAreEscapedOnlyInALikePattern() {
    assertThat(SoqlLiteral.of("100%_sure", true)).isEqualTo("'100\\%\\_sure'");
    assertThat(SoqlLiteral.of("100%_sure", false)).isEqualTo("'100%_sure'");
  }

  @Test
  void numbersBooleansAndNullAreWrittenAsSoqlLiterals() {
    assertThat(SoqlLiteral.of(42.0, false)).isEqualTo("42");
    assertThat(SoqlLiteral.of(-3, false)).isEqualTo("-3");
    assertThat(SoqlLiteral.of(12345678901L, false)).isEqualTo("12345678901");
    assertThat(SoqlLiteral.of(1.5e-7, false)).isEqualTo("0.00000015");
    assertThat(SoqlLiteral.of(new BigDecimal("1E+3"), false)).isEqualTo("1000");
    assertThat(SoqlLiteral.of(true, false)).isEqualTo("true");
    assertThat(SoqlLiteral.of(null, false)).isEqualTo("null");
  }

  @Test
  void objectsListsAndNonFiniteNumbersAreRefused() {
    for (Object value : new Object[] {Map.of(), List.of("a"), Double.NaN}) {
      assertThatThrownBy(() -> SoqlLiteral.of(value, false))
          .as(String.valueOf(value))
          .isInstanceOf(ExpressionException.class);
    }
  }

  @Test
  void aQueryBindsEachPlaceholderAsALiteralAndRendersTheQueryPath() {
    EnrichPath q =
        EnrichPath.query(
            "SELECT Id, Name FROM Contact WHERE Phone = {phone} AND Name LIKE {name}"
                + " AND HasOptedOutOfEmail = {optOut} AND Age__c = {$number(age)} LIMIT 1");
    Map<String, Object> event = new HashMap<>();
    event.put("phone", "+1 555' OR Phone != '");
    event.put("name", "50%_off");
    event.put("optOut", false);
    event.put("age", "41");
    String soql = q.soql(event, Map.of());
    assertThat(soql)
        .isEqualTo(
            "SELECT Id, Name FROM Contact WHERE Phone = '+1 555\\' OR Phone != \\''"
                + " AND Name LIKE '50\\%\\_off' AND HasOptedOutOfEmail = false AND Age__c = 41"
                + " LIMIT 1");
    String path = q.render(event, Map.of());
    assertThat(path).startsWith("/query?q=SELECT+Id%2C+Name+FROM+Contact");
    assertThat(path).doesNotContain(" ", "'", "&", "#");
    assertThat(URLDecoder.decode(path.substring("/query?q=".length()), StandardCharsets.UTF_8))
        .isEqualTo(soql);
    assertThat(q.key()).isEqualTo("query");
    assertThat(q.origin()).isNull();
  }

  @Test
  void aMissingValueOrAnObjectFailsTheSameWayEveryTime() {
    EnrichPath q = EnrichPath.query("SELECT Id FROM Contact WHERE Phone = {phone}");
    // Phone = null would match every Contact without a phone, and "none found" would be wrong
    assertThatThrownBy(() -> q.soql(Map.of(), Map.of()))
        .isInstanceOf(ExpressionException.class)
        .hasMessageContaining("{phone} has no value");
    assertThatThrownBy(() -> q.soql(Map.of("phone", Map.of("a", 1)), Map.of()))
        .isInstanceOf(ExpressionException.class)
        .hasMessageContaining("{phone}");
  }

  @Test
  void aQueryThatCannotBindItsValuesSafelyIsRefusedAtLoad() {
    assertThatThrownBy(() -> EnrichPath.query("SELECT Id FROM Contact WHERE Phone = '{phone}'"))
        .hasMessageContaining("inside a quoted string");
    assertThatThrownBy(() -> EnrichPath.query("SELECT Id FROM Contact WHERE Name = 'x"))
        .hasMessageContaining("not closed");
    assertThatThrownBy(() -> EnrichPath.query("DELETE FROM Contact"))
        .hasMessageContaining("SELECT");
    assertThatThrownBy(() -> EnrichPath.query("SELECT Id FROM Contact WHERE Phone = {phone"))
        .hasMessageContaining("not closed");
    // a quote escaped inside the written text does not end it
    assertThat(
            EnrichPath.query("SELECT Id FROM Contact WHERE Name = 'O\\'Brien' AND Phone = {p}")
                .soql(Map.of("p", "1"), Map.of()))
        .endsWith("Name = 'O\\'Brien' AND Phone = '1'");
  }

  /** The indexes of the quotes in a literal that no backslash escapes. */
  private static List<Integer> unescapedQuotes(String literal) {
    List<Integer> at = new java.util.ArrayList<>();
    for (int i = 0; i < literal.length(); i++) {
      char c = literal.charAt(i);
      if (c == '\\') {
        i++;
      } else if (c == '\'') {
        at.add(i);
      }
    }
    return at;
  }
}
