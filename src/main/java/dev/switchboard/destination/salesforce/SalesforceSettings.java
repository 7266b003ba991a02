package dev.switchboard.destination.salesforce;

import dev.switchboard.config.ConfigValues;
import dev.switchboard.config.DestinationConfig;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code salesforce} connector's settings, read from a checked {@link DestinationConfig} (the
 * loader's {@code ConnectorSettings} filled {@code api_version}, {@code operation} and {@code
 * batch_size}); a hand-built config (tests) gets the same defaults.
 *
 * @param loginUrl the org's My Domain URL, without a trailing slash; the token is asked of {@code
 *     /services/oauth2/token} there ({@code login.salesforce.com} refuses this grant)
 * @param externalIdField the field upserts match on; null for {@code create}
 * @param batchSize records per sObject Collections call (upsert only; 1 = one call per delivery)
 */
public record SalesforceSettings(
    URI loginUrl,
    String clientId,
    String clientSecret,
    String apiVersion,
    Operation operation,
    String object,
    String externalIdField,
    int batchSize,
    Duration timeout,
    Duration connectTimeout) {

  /** What each delivery does to the object. */
  public enum Operation {
    /** {@code PATCH /sobjects/{object}/{external_id_field}/{value}}: the external id is the key. */
    UPSERT,
    /** {@code POST /sobjects/{object}}: a retry after a lost answer can create a second record. */
    CREATE
  }

  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** API names of objects and fields go into URL paths unescaped, so only these pass. */
  private static final Pattern API_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,79}");

  private static final Pattern VERSION = Pattern.compile("\\d{2,3}\\.\\d");

  /**
   * @throws IllegalArgumentException when a setting is malformed; messages never hold the secret
   */
  public static SalesforceSettings from(DestinationConfig config) {
    Map<String, Object> s = config.settings();
    String login = text(s, "login_url", null);
    try {
      ConfigValues.checkHttpUrl(login);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("login_url: " + e.getMessage());
    }
    login = login.trim();
    while (login.endsWith("/")) {
      login = login.substring(0, login.length() - 1);
    }
    Operation operation =
        "create".equals(text(s, "operation", "upsert")) ? Operation.CREATE : Operation.UPSERT;
    String object = apiName("object", text(s, "object", null));
    String field =
        operation == Operation.UPSERT
            ? apiName("external_id_field", text(s, "external_id_field", null))
            : null;
    String version = text(s, "api_version", "62.0");
    if (!VERSION.matcher(version).matches()) {
      throw new IllegalArgumentException("api_version: expected a version such as \"62.0\"");
    }
    int batchSize = Integer.parseInt(text(s, "batch_size", "1"));
    if (batchSize < 1 || batchSize > 200) {
      throw new IllegalArgumentException("batch_size: sObject Collections take 1 to 200 records");
    }
    Duration connect =
        s.get("connect_timeout") instanceof String t
            ? ConfigValues.duration(t)
            : DEFAULT_CONNECT_TIMEOUT;
    return new SalesforceSettings(
        URI.create(login),
        text(s, "client_id", null),
        text(s, "client_secret", null),
        version,
        operation,
        object,
        field,
        batchSize,
        config.timeout() == null ? DEFAULT_TIMEOUT : config.timeout(),
        connect);
  }

  /** {@code /services/data/v62.0}. */
  String dataPath() {
    return "/services/data/v" + apiVersion;
  }

  /** Never the client secret: a record's default would print it. */
  @Override
  public String toString() {
    return "SalesforceSettings["
        + loginUrl.getHost()
        + ", "
        + operation
        + " "
        + object
        + (externalIdField == null ? "" : " by " + externalIdField)
        + ", v"
        + apiVersion
        + ", batch "
        + batchSize
        + "]";
  }

  private static String text(Map<String, Object> s, String key, String fallback) {
    Object value = s.get(key);
    if (value == null && fallback == null) {
      throw new IllegalArgumentException(key + " is required");
    }
    return value == null ? fallback : String.valueOf(value);
  }

  private static String apiName(String key, String value) {
    if (!API_NAME.matcher(value).matches()) {
      throw new IllegalArgumentException(
          key + ": expected an API name such as Disposition_Log__c, got \"" + value + "\"");
    }
    return value;
  }
}
