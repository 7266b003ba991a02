package dev.switchboard.destination.http;

import dev.switchboard.config.DestinationConfig;
import dev.switchboard.config.EnrichPath;
import dev.switchboard.config.SettingsReader;
import dev.switchboard.destination.ConnectorContext;
import dev.switchboard.destination.ConnectorDescriptor;
import dev.switchboard.destination.Destination;
import dev.switchboard.destination.http.HttpDestinationSettings.Preset;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The {@code http} connector: a request to any URL (docs/connectors.md). */
public final class HttpConnector implements ConnectorDescriptor<HttpDestinationSettings> {
  static final List<String> METHODS = List.of("GET", "POST", "PUT", "PATCH", "DELETE");
  static final List<String> SIGN_KEYS = List.of("scheme", "secret");

  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

  @Override
  public String name() {
    return "http";
  }

  @Override
  public List<String> keys() {
    return List.of("method", "url", "headers", "preset", "sign", "auth");
  }

  @Override
  public Function<Common, HttpDestinationSettings> read(SettingsReader node) {
    String method = node.oneOf("method", "HTTP method", METHODS, "POST");
    HttpTemplates.Url url = HttpTemplates.url(node, "url");
    List<String> presets = Arrays.stream(Preset.values()).map(Preset::configName).toList();
    String presetName = node.oneOf("preset", "http preset", presets, null);
    Map<String, String> headers = node.stringMap("headers");
    Map<String, EnrichPath> headerTemplates = HttpTemplates.headers(node, "headers", headers);
    String secret = null;
    boolean usable = headerTemplates != null;
    SettingsReader sign = node.mapping("sign");
    if (sign.present()) {
      sign.checkKeys(SIGN_KEYS);
      sign.oneOf("scheme", "signing scheme", List.of("standard-webhooks"), "standard-webhooks");
      secret = sign.standardWebhooksSecret("secret");
      usable &= secret != null;
    }
    HttpAuth.Read authRead = HttpAuth.Read.of(node, headers);
    HttpAuth auth = authRead.auth();
    usable &= authRead.usable();
    if (url == null || !usable) {
      return null;
    }
    Preset preset = presetName == null ? null : Preset.of(presetName);
    String signSecret = secret;
    HttpAuth httpAuth = auth;
    return common ->
        new HttpDestinationSettings(
            method,
            url.uri(),
            headers,
            timeout(preset, common.timeout()),
            common.connectTimeout() == null ? DEFAULT_CONNECT_TIMEOUT : common.connectTimeout(),
            signSecret,
            preset,
            httpAuth,
            url.template(),
            headerTemplates);
  }

  /**
   * A preset's own timeout applies unless one is written; as before, a written timeout equal to the
   * default reads as "not set".
   */
  private static Duration timeout(Preset preset, Duration written) {
    boolean unset = written.equals(DestinationConfig.DEFAULT_TIMEOUT);
    return preset != null && preset.timeout() != null && unset ? preset.timeout() : written;
  }

  @Override
  public Destination create(DestinationConfig config, ConnectorContext context) {
    return new HttpDestination(config, context.clock(), context.signer(), context.sessions());
  }
}
