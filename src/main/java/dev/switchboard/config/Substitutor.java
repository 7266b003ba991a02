package dev.switchboard.config;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${VAR}}, {@code ${VAR:-default}} and {@code ${file:/path}} in a scalar, before
 * the scalar is converted to its type. <code>$${</code> stands for a literal <code>${</code>. Error
 * messages name the variable or the file, never a value.
 */
final class Substitutor {
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final String FORMS = "expected ${VAR}, ${VAR:-default} or ${file:/path}";

  /** The substituted text, or null with the reasons when something could not be resolved. */
  record Result(String value, boolean substituted, List<String> errors) {}

  private final Map<String, String> env;
  private final Path baseDir;

  /**
   * @param baseDir the configuration file's directory; relative {@code file:} paths resolve against
   *     it
   */
  Substitutor(Map<String, String> env, Path baseDir) {
    this.env = env;
    this.baseDir = baseDir;
  }

  Result substitute(String raw) {
    if (!raw.contains("${")) {
      return new Result(raw, false, List.of());
    }
    StringBuilder out = new StringBuilder();
    List<String> errors = new ArrayList<>();
    int i = 0;
    while (i < raw.length()) {
      int start = raw.indexOf("${", i);
      if (start < 0) {
        out.append(raw, i, raw.length());
        break;
      }
      if (start > 0 && raw.charAt(start - 1) == '$') {
        out.append(raw, i, start - 1).append("${");
        i = start + 2;
        continue;
      }
      out.append(raw, i, start);
      int end = raw.indexOf('}', start);
      if (end < 0) {
        errors.add("unclosed \"${\": " + FORMS);
        break;
      }
      String resolved = resolve(raw.substring(start + 2, end), errors);
      out.append(resolved == null ? "" : resolved);
      i = end + 1;
    }
    return errors.isEmpty()
        ? new Result(out.toString(), true, List.of())
        : new Result(null, true, List.copyOf(errors));
  }

  private String resolve(String reference, List<String> errors) {
    if (reference.startsWith("file:")) {
      return readFile(reference.substring("file:".length()), errors);
    }
    int colon = reference.indexOf(":-");
    String name = colon < 0 ? reference : reference.substring(0, colon);
    if (!NAME.matcher(name).matches()) {
      errors.add("bad substitution \"${" + name + "…}\": " + FORMS);
      return null;
    }
    String value = env.get(name);
    if (value != null && !(colon >= 0 && value.isEmpty())) {
      return value;
    }
    if (colon >= 0) {
      return reference.substring(colon + 2);
    }
    errors.add("environment variable " + name + " is not set");
    return null;
  }

  private String readFile(String pathText, List<String> errors) {
    if (pathText.isBlank()) {
      errors.add("bad substitution \"${file:}\": " + FORMS);
      return null;
    }
    Path path;
    try {
      path = baseDir.resolve(pathText.trim()).normalize();
    } catch (InvalidPathException e) {
      errors.add("bad file path in ${file:…}: " + e.getReason());
      return null;
    }
    try {
      String content = Files.readString(path, StandardCharsets.UTF_8);
      return content.replaceAll("[\\r\\n]+$", "");
    } catch (NoSuchFileException e) {
      errors.add("file " + path + " does not exist");
    } catch (MalformedInputException e) {
      errors.add("file " + path + " is not UTF-8 text");
    } catch (IOException e) {
      errors.add("file " + path + " cannot be read (" + e.getClass().getSimpleName() + ")");
    }
    return null;
  }
}
