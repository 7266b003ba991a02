package dev.switchboard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table with aligned columns, for terminals: each column as wide as its widest cell
 * (cells longer than {@link #MAX_CELL} are cut with an ellipsis), two spaces between columns, no
 * trailing blanks. An empty cell (or a JSON null) prints as "-".
 */
final class Table {
  static final int MAX_CELL = 60;

  private final List<String[]> rows = new ArrayList<>();
  private final int columns;

  Table(String... headers) {
    this.columns = headers.length;
    rows.add(headers);
  }

  Table row(Object... cells) {
    if (cells.length != columns) {
      throw new IllegalArgumentException("expected " + columns + " cells");
    }
    String[] text = new String[columns];
    for (int i = 0; i < columns; i++) {
      text[i] = cell(cells[i]);
    }
    rows.add(text);
    return this;
  }

  /** Rows below the header. */
  int size() {
    return rows.size() - 1;
  }

  void print(PrintWriter out) {
    int[] widths = new int[columns];
    for (String[] row : rows) {
      for (int i = 0; i < columns; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        if (i > 0) {
          line.append("  ");
        }
        line.append(row[i]);
        if (i < columns - 1) {
          line.append(" ".repeat(widths[i] - row[i].length()));
        }
      }
      out.println(line.toString().stripTrailing());
    }
    out.flush();
  }

  static String cell(Object value) {
    String text;
    if (value instanceof JsonNode node) {
      text =
          node.isNull() || node.isMissingNode()
              ? ""
              : node.isTextual() ? node.asText() : node.toString();
    } else {
      text = value == null ? "" : value.toString();
    }
    text = text.replaceAll("\\s+", " ").strip();
    if (text.isEmpty()) {
      return "-";
    }
    return text.length() > MAX_CELL ? text.substring(0, MAX_CELL - 1) + "…" : text;
  }
}
