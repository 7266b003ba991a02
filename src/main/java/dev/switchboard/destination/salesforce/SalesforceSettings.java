package dev.switchboard.destination.salesforce;

import dev.switchboard.config.ConnectorSettings;
import dev.switchboard.config.DestinationConfig;
import dev.switchboard.destination.ConnectorDescriptor;
import java.net.URI;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The {@code salesforce} connector's settings, read by {@link SalesforceConnector} when the file is
 * loaded (with the defaults of {@code api_version}, {@code operation} and {@code batch_size}).
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
    Duration connectTimeout)
    implements ConnectorSettings {

  /** What each delivery does to the object. */
  public enum Operation {
    /** {@code PATCH /sobjects/{object}/{external_id_field}/{value}}: the external id is the key. */
    UPSERT,
    /** {@code POST /sobjects/{object}}: a retry after a lost answer can create a second record. */
    CREATE
  }

  /** API names of objects and fields go into URL paths unescaped, so only these pass. */
  private static final Pattern API_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,79}");

  private static final Pattern VERSION = Pattern.compile("\\d{2,3}\\.\\d");

  /**
   * The settings of a destination the loader read as {@code salesforce}, refused when a name would
   * not fit in a URL path or the version is not one Salesforce has (checked when the connector is
   * built, as it always was).
   *
   * @throws IllegalArgumentException when a setting is unusable; messages never hold the secret
   */
  static SalesforceSettings of(DestinationConfig config) {
    SalesforceSettings settings = ConnectorDescriptor.settingsOf(config, SalesforceSettings.class);
    apiName("object", settings.object);
    if (settings.operation == Operation.UPSERT) {
      apiName("external_id_field", settings.externalIdField);
    }
    if (!VERSION.matcher(settings.apiVersion).matches()) {
      throw new IllegalArgumentException("api_version: expected a version such as \"62.0\"");
    }
    return settings;
  }

  /** The org and client these settings name: the key of the shared session. */
  SalesforceClient client() {
    return new SalesforceClient(loginUrl, clientId, clientSecret, apiVersion);
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

  private static String apiName(String key, String value) {
    if (!API_NAME.matcher(value).matches()) {
      throw new IllegalArgumentException(
          key + ": expected an API name such as Disposition_Log__c, got \"" + value + "\"");
    }
    return value;
  }
}
