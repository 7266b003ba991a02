package dev.switchboard.ingest.verify;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** Read access to a request's headers, so verifiers need not know the HTTP framework. */
@FunctionalInterface
public interface HeaderLookup {

  /**
   * Returns the header's value, the first one when the header is repeated, or null when absent.
   *
   * @param lowerCaseName the header name in lower case
   */
  String get(String lowerCaseName);

  /** A lookup over a map whose names may be in any case, such as the output of {@code sign}. */
  static HeaderLookup of(Map<String, String> headers) {
    Map<String, String> lowerCased = new HashMap<>();
    headers.forEach((name, value) -> lowerCased.putIfAbsent(name.toLowerCase(Locale.ROOT), value));
    return lowerCased::get;
  }
}
