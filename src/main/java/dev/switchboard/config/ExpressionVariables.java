package dev.switchboard.config;

import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code $variables} placeholder expressions read from their bindings, for the configuration's
 * check that every route to a templated destination gives them (docs/connectors.md).
 */
final class ExpressionVariables {
  private static final Pattern VARIABLE = Pattern.compile("(?<![$\\w])\\$([A-Za-z_][A-Za-z0-9_]*)");
  private static final Pattern ASSIGNED = Pattern.compile("\\$([A-Za-z_][A-Za-z0-9_]*)\\s*:=");
  private static final Pattern LAMBDA = Pattern.compile("(?:function|λ)\\s*\\(([^)]*)\\)");

  private ExpressionVariables() {}

  /**
   * Every {@code $name} outside quotes in {@code sources} that is not a function call ({@code
   * $name(}), the root ({@code $$}) or a name the expression binds itself ({@code $x := …}, a
   * {@code function($x)} parameter).
   */
  static Set<String> of(List<String> sources) {
    Set<String> names = new LinkedHashSet<>();
    for (String source : sources) {
      String unquoted = withoutQuotes(source);
      Set<String> own = new HashSet<>();
      Matcher assigned = ASSIGNED.matcher(unquoted);
      while (assigned.find()) {
        own.add(assigned.group(1));
      }
      Matcher parameters = LAMBDA.matcher(unquoted);
      while (parameters.find()) {
        Matcher each = VARIABLE.matcher(parameters.group(1));
        while (each.find()) {
          own.add(each.group(1));
        }
      }
      Matcher m = VARIABLE.matcher(unquoted);
      while (m.find()) {
        String rest = unquoted.substring(m.end()).stripLeading();
        if (!rest.startsWith("(") && !own.contains(m.group(1))) {
          names.add(m.group(1));
        }
      }
    }
    return names;
  }

  private static String withoutQuotes(String source) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < source.length(); i++) {
      char c = source.charAt(i);
      if (c == '\'' || c == '"' || c == '`') {
        int end = EnrichPath.endOfQuote(source, i);
        if (end < 0) {
          break;
        }
        out.append("''");
        i = end;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
