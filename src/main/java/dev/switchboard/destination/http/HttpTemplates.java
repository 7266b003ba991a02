package dev.switchboard.destination.http;

import dev.switchboard.config.ConfigValues;
import dev.switchboard.config.EnrichPath;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.expr.ExpressionException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code http} destination's templates (docs/connectors.md): {@code {placeholders}} in the
 * URL's path and query and in header values, read here when the file is loaded and filled at each
 * attempt from the outbound body and the delivery's bindings.
 *
 * <p>A URL's scheme, host and port are written out, never templated: a payload may choose which
 * record a call names, never which server receives the credentials. Each URL value is
 * percent-encoded as one segment ({@link EnrichPath}), so {@code /}, {@code ..}, {@code ?} and
 * {@code #} stay inside it; a header value is filled as it is, a line break refused.
 */
final class HttpTemplates {
  static final String HOST_PROBLEM =
      "a template cannot choose the host: write the scheme, host and port out;"
          + " {placeholders} may fill only the path and the query";

  /**
   * A URL as read.
   *
   * @param uri the URL, or a template's shape with each placeholder itself encoded
   * @param template the placeholders, or null for a fixed URL
   */
  record Url(URI uri, EnrichPath template) {}

  private HttpTemplates() {}

  /**
   * Reads the URL at {@code key}, templated or not.
   *
   * @return the URL, or null when absent or refused (a problem is reported at {@code key})
   */
  static Url url(SettingsReader node, String key) {
    String written = node.string(key);
    if (written == null || written.indexOf('{') < 0 && written.indexOf('}') < 0) {
      String url = node.httpUrl(key, true);
      return url == null ? null : new Url(URI.create(url.trim()), null);
    }
    String text = written.trim();
    int scheme = text.indexOf("://");
    int authorityEnd = scheme < 0 ? 0 : scheme + 3;
    while (authorityEnd < text.length() && "/?#".indexOf(text.charAt(authorityEnd)) < 0) {
      authorityEnd++;
    }
    int brace = Math.min(indexOrMax(text, '{'), indexOrMax(text, '}'));
    if (scheme < 0 || brace < authorityEnd) {
      node.problem(
          key, scheme < 0 ? "bad " + key + ": expected an http:// or https:// URL" : HOST_PROBLEM);
      return null;
    }
    EnrichPath template;
    try {
      template = EnrichPath.template(text);
    } catch (IllegalArgumentException e) {
      node.problem(key, "bad " + key + " template: " + e.getMessage());
      return null;
    }
    String shape =
        template.withPlaceholders(source -> EnrichPath.encodeSegment("{" + source + "}"));
    try {
      ConfigValues.checkHttpUrl(shape);
      return new Url(new URI(shape), template);
    } catch (IllegalArgumentException | URISyntaxException e) {
      node.problem(key, "bad " + key + ": expected an http:// or https:// URL with a host");
      return null;
    }
  }

  /**
   * The header values of {@code headers} (read from {@code key}) that have placeholders.
   *
   * @return the templates by header name, or null when one was refused (a problem is reported at
   *     its key)
   */
  static Map<String, EnrichPath> headers(
      SettingsReader node, String key, Map<String, String> headers) {
    Map<String, EnrichPath> templates = new LinkedHashMap<>();
    boolean usable = true;
    for (Map.Entry<String, String> header : headers.entrySet()) {
      String value = header.getValue();
      if (value.indexOf('{') < 0 && value.indexOf('}') < 0) {
        continue;
      }
      try {
        templates.put(header.getKey(), EnrichPath.text(value));
      } catch (IllegalArgumentException e) {
        node.mapping(key).problem(header.getKey(), "bad header template: " + e.getMessage());
        usable = false;
      }
    }
    return usable ? templates : null;
  }

  /**
   * The URL for one delivery.
   *
   * @throws ExpressionException when a placeholder has no usable value; the message names the
   *     placeholder, never its value
   */
  static URI fill(EnrichPath url, Object body, Map<String, ?> bindings) {
    try {
      return URI.create(url.render(body, bindings));
    } catch (ExpressionException e) {
      throw safe("url", e);
    }
  }

  /**
   * One header's value for one delivery.
   *
   * @throws ExpressionException as {@link #fill(EnrichPath, Object, Map)}
   */
  static String fillHeader(String name, EnrichPath value, Object body, Map<String, ?> bindings) {
    try {
      return value.fill(body, bindings);
    } catch (ExpressionException e) {
      throw safe("header " + name, e);
    }
  }

  /**
   * Our own messages name the placeholder ({@code {ticketId} has no value}); an evaluation error
   * from JSONata might quote a value, so only its kind is kept.
   */
  private static ExpressionException safe(String where, ExpressionException e) {
    String message =
        e.getMessage() != null && e.getMessage().startsWith("{")
            ? e.getMessage()
            : "a placeholder cannot be evaluated for this event";
    return new ExpressionException(where + " template: " + message, -1, null);
  }

  private static int indexOrMax(String text, char c) {
    int i = text.indexOf(c);
    return i < 0 ? Integer.MAX_VALUE : i;
  }
}
