package dev.switchboard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TableTest {
  static String print(Table table) {
    StringWriter out = new StringWriter();
    table.print(new PrintWriter(out));
    return out.toString();
  }

  @Test
  void columnsAreAsWideAsTheirWidestCellWithoutTrailingBlanks() {
    String text =
        print(
            new Table("NAME", "STATE", "LAST ERROR")
                .row("crm", "active", null)
                .row("salesforce-prod", "paused", "http 503"));
    assertThat(text.split("\n"))
        .containsExactly(
            "NAME             STATE   LAST ERROR",
            "crm              active  -",
            "salesforce-prod  paused  http 503");
  }

  @Test
  void longCellsAreCutAndWhitespaceFolded() {
    String text = print(new Table("A", "B").row("x".repeat(100), "line\none\ttwo"));
    String row = text.split("\n")[1];
    assertThat(row).startsWith("x".repeat(Table.MAX_CELL - 1) + "…  line one two");
  }

  @Test
  void jsonNullsAndMissingValuesPrintAsADash() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    assertThat(Table.cell(f.nullNode())).isEqualTo("-");
    assertThat(Table.cell(f.missingNode())).isEqualTo("-");
    assertThat(Table.cell(f.textNode("null"))).isEqualTo("null");
    assertThat(Table.cell(f.numberNode(3))).isEqualTo("3");
  }
}
