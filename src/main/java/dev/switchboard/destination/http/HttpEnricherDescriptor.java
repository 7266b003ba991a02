package dev.switchboard.destination.http;

import dev.switchboard.config.EnricherConfig;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.Enricher;
import dev.switchboard.destination.EnricherDescriptor;
import dev.switchboard.destination.http.HttpEnricher.Settings;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The {@code http} enricher: GETs a record from any HTTP API (docs/enrichment.md). */
public final class HttpEnricherDescriptor implements EnricherDescriptor<Settings> {
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  /** Headers the HTTP client sets itself and refuses from callers. */
  private static final Set<String> RESTRICTED_HEADERS =
      Set.of("connection", "content-length", "expect", "host", "upgrade");

  @Override
  public String name() {
    return "http";
  }

  @Override
  public List<String> keys() {
    return List.of("url", "auth", "headers", "timeout");
  }

  @Override
  public Settings read(SettingsReader node) {
    String url = node.httpUrl("url", true);
    boolean usable = url != null;
    if (url != null) {
      URI uri = URI.create(url.trim());
      if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
        node.problem(
            "url",
            "the enricher's url is a base that paths are appended to: no ?query or #fragment");
        usable = false;
      }
    }
    Map<String, String> headers = node.stringMap("headers");
    for (String header : headers.keySet()) {
      if (RESTRICTED_HEADERS.contains(header.toLowerCase(Locale.ROOT))) {
        node.mapping("headers")
            .problem(
                header, "header " + header + " is set by the HTTP client and cannot be configured");
        usable = false;
      }
    }
    Duration timeout = node.duration("timeout", DEFAULT_TIMEOUT);
    if (timeout != null && timeout.isZero()) {
      node.problem("timeout", "timeout must be more than 0");
      usable = false;
    }
    HttpAuth.Read authRead = HttpAuth.Read.of(node, headers);
    HttpAuth auth = authRead.auth();
    usable &= authRead.usable();
    if (!usable) {
      return null;
    }
    return new Settings(
        URI.create(ConnectorDescriptor.withoutTrailingSlash(url.trim())),
        auth,
        headers,
        timeout == null ? DEFAULT_TIMEOUT : timeout);
  }

  @Override
  public String apiUrl(SettingsReader node) {
    return node.string("url");
  }

  @Override
  public Enricher create(EnricherConfig config, ConnectorContext context) {
    return new HttpEnricher(config, context.clock(), context.sessions());
  }
}
