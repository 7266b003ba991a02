package dev.switchboard.destination.http;

import dev.switchboard.config.ConnectorSettings;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.EnrichPath;
import dev.switchboard.config.RateLimit;
import dev.switchboard.destination.ConnectorDescriptor;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code http} connector's settings, read by {@link HttpConnector} when the file is loaded.
 *
 * <p>The URL may be a credential (Power Automate's {@code sig=} query parameter, Zapier's hook id):
 * nothing here ever puts {@link #url()} into a message; use {@link #safeTarget()} for logs and
 * errors, and {@link #redact} on any text the destination sent back.
 *
 * <p>A templated URL ({@code https://api.example.com/v1/tickets/{ticketId}}) has its scheme, host
 * and port fixed here; its placeholders are filled at each attempt, each value one encoded path
 * segment or query value ({@link #urlTemplate}). {@link #url()} is then the template with each
 * placeholder itself encoded, never a filled-in URL.
 *
 * @param url the URL, or a templated URL's shape (see above)
 * @param headers configured request headers, in configuration order, templates as written
 * @param timeout request timeout: from the sending of the request to the end of the answer
 * @param signSecret the Standard Webhooks {@code whsec_} secret, or null when not signing
 * @param preset the target's documented limits, or null
 * @param auth how calls authenticate ({@code auth:}), or null for no credentials beyond headers
 * @param urlTemplate the URL's placeholders, or null when the URL has none
 * @param headerTemplates the header values that have placeholders, by header name
 */
public record HttpDestinationSettings(
    String method,
    URI url,
    Map<String, String> headers,
    Duration timeout,
    Duration connectTimeout,
    String signSecret,
    Preset preset,
    HttpAuth auth,
    EnrichPath urlTemplate,
    Map<String, EnrichPath> headerTemplates)
    implements ConnectorSettings {

  /** Headers the JDK client sets itself and refuses from callers. */
  private static final Set<String> RESTRICTED_HEADERS =
      Set.of("connection", "content-length", "expect", "host", "upgrade");

  /** Query values shorter than this are left in excerpts: they are flags, not signatures. */
  private static final int MIN_SECRET_LENGTH = 8;

  /** Documented limits of well-known targets (docs/connectors.md). */
  public enum Preset {
    /**
     * "When an HTTP request is received": answers 202 at once without a Response action, or the
     * flow's answer within 120 s (then 502/504). Flows are throttled (4,500 or 45,000 invokes per 5
     * min, 429) and turned off after 14 days of throttling or failures, so retries must back off:
     * the lower figure, 15 requests/s, is kept unless a {@code rate_limit} is written.
     */
    POWER_AUTOMATE(
        "power-automate", Duration.ofSeconds(120), 0, new RateLimit(15, Duration.ofSeconds(1))),
    /**
     * Catch hook: answers 200 even for paused Zaps; payload at most 10 MB; about 30 requests/s per
     * hook, 429 beyond.
     */
    ZAPIER("zapier", null, 10L << 20, new RateLimit(30, Duration.ofSeconds(1)));

    private final String configName;
    private final Duration timeout;
    private final long maxBodyBytes;
    private final RateLimit rateLimit;

    Preset(String configName, Duration timeout, long maxBodyBytes, RateLimit rateLimit) {
      this.configName = configName;
      this.timeout = timeout;
      this.maxBodyBytes = maxBodyBytes;
      this.rateLimit = rateLimit;
    }

    /** The name written after {@code preset:}. */
    public String configName() {
      return configName;
    }

    /** The largest body the target accepts, or 0 for no documented limit we enforce. */
    public long maxBodyBytes() {
      return maxBodyBytes;
    }

    /** The target's own answer time, or null when the destination's timeout applies. */
    Duration timeout() {
      return timeout;
    }

    static Preset of(String name) {
      for (Preset preset : values()) {
        if (preset.configName.equals(name)) {
          return preset;
        }
      }
      throw new IllegalArgumentException("unknown http preset \"" + name + "\"");
    }
  }

  public HttpDestinationSettings {
    headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    headerTemplates = Map.copyOf(headerTemplates);
  }

  /** Settings without auth or templates (tests, and the connector as it was). */
  public HttpDestinationSettings(
      String method,
      URI url,
      Map<String, String> headers,
      Duration timeout,
      Duration connectTimeout,
      String signSecret,
      Preset preset) {
    this(method, url, headers, timeout, connectTimeout, signSecret, preset, null, null, Map.of());
  }

  @Override
  public boolean takesRouteMethod() {
    return true;
  }

  @Override
  public Set<String> templateVariables() {
    Set<String> variables = new LinkedHashSet<>();
    if (urlTemplate != null) {
      variables.addAll(urlTemplate.variables());
    }
    headerTemplates.values().forEach(t -> variables.addAll(t.variables()));
    return variables;
  }

  /**
   * The settings of a destination the loader read as {@code http}, refused when a header is one the
   * HTTP client sets itself (checked when the connector is built, as it always was).
   *
   * @throws IllegalArgumentException when the settings are unusable; the message never holds the
   *     URL
   */
  static HttpDestinationSettings of(DestinationConfig config) {
    HttpDestinationSettings settings =
        ConnectorDescriptor.settingsOf(config, HttpDestinationSettings.class);
    for (String header : settings.headers.keySet()) {
      if (RESTRICTED_HEADERS.contains(header.toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException(
            "header " + header + " is set by the HTTP client and cannot be configured");
      }
    }
    return settings;
  }

  @Override
  public RateLimit defaultRateLimit() {
    return preset == null ? null : preset.rateLimit;
  }

  /**
   * The rate limit the preset's target documents, the destination's {@code rate_limit} when none is
   * written ({@link #defaultRateLimit()}).
   */
  public Optional<RateLimit> presetRateLimit() {
    return Optional.ofNullable(defaultRateLimit());
  }

  /** The largest body the target accepts, or 0 for no limit. */
  public long maxBodyBytes() {
    return preset == null ? 0 : preset.maxBodyBytes;
  }

  /**
   * {@code scheme://host[:port]/path}: no user info, query or fragment. The only form of the URL
   * that may be logged or put in an error.
   */
  public String safeTarget() {
    String port = url.getPort() < 0 ? "" : ":" + url.getPort();
    String path = url.getRawPath() == null ? "" : url.getRawPath();
    if (urlTemplate != null) {
      path = url.getPath(); // the template's path as written: {placeholders}, never values
    }
    return url.getScheme() + "://" + url.getHost() + port + path;
  }

  /**
   * Removes the URL's query and its long parameter values (signatures) from text the target sent
   * back or an exception message, before it goes into an attempt's history.
   */
  public String redact(String text) {
    if (text == null || url.getRawQuery() == null) {
      return text;
    }
    List<String> secrets = new ArrayList<>();
    secrets.add(url.getRawQuery());
    if (url.getQuery() != null) {
      secrets.add(url.getQuery());
    }
    for (String pair : url.getRawQuery().split("&")) {
      int equals = pair.indexOf('=');
      String value = equals < 0 ? "" : pair.substring(equals + 1);
      if (value.length() >= MIN_SECRET_LENGTH) {
        secrets.add(value);
        secrets.add(URLDecoder.decode(value, StandardCharsets.UTF_8));
      }
    }
    String redacted = text;
    for (String secret : secrets) {
      if (!secret.isEmpty()) {
        redacted = redacted.replace(secret, "[redacted]");
      }
    }
    return redacted;
  }

  /** Never the URL, header values or the secret: a record's default would print all three. */
  @Override
  public String toString() {
    return "HttpDestinationSettings["
        + method
        + " "
        + safeTarget()
        + ", preset="
        + preset
        + (auth == null ? "" : ", auth=" + auth)
        + "]";
  }
}
