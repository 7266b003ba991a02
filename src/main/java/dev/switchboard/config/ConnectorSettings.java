package dev.switchboard.config;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks each connector's own keys and fills in their defaults in the destination's {@code
 * settings}. Values stay text; what is checked here (URLs, numbers, durations, identifiers) a
 * connector may convert without checking again. Messages never repeat a URL or a credential, since
 * URLs such as Power Automate's carry a signature.
 */
final class ConnectorSettings {
  static final List<String> HTTP_METHODS = List.of("GET", "POST", "PUT", "PATCH", "DELETE");
  static final List<String> HTTP_PRESETS = List.of("power-automate", "zapier");
  static final List<String> SIGN_KEYS = List.of("scheme", "secret");
  static final List<String> SALESFORCE_OPERATIONS = List.of("upsert", "create");

  /**
   * SQL identifiers are written into statements, not bound, so only plain names pass; a table may
   * be schema-qualified.
   */
  private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private static final Pattern TABLE =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");
  private static final Pattern API_VERSION = Pattern.compile("\\d+\\.\\d+");

  private ConnectorSettings() {}

  static void check(String type, YamlNodeReader node, Map<String, Object> settings) {
    switch (type) {
      case "http" -> http(node, settings);
      case "salesforce" -> salesforce(node, settings);
      case "slack" -> url(node, "url", true);
      case "jira" -> jira(node, settings);
      case "kafka" -> kafka(node);
      case "jdbc" -> jdbc(node);
      default -> throw new IllegalArgumentException("no checks for type " + type);
    }
  }

  private static void http(YamlNodeReader node, Map<String, Object> settings) {
    String method = node.oneOf("method", "HTTP method", HTTP_METHODS, "POST");
    settings.put("method", method);
    url(node, "url", true);
    node.oneOf("preset", "http preset", HTTP_PRESETS, null);
    node.stringMap("headers");
    YamlNodeReader sign = node.mapping("sign");
    if (sign.present()) {
      sign.checkKeys(SIGN_KEYS);
      String scheme =
          sign.oneOf("scheme", "signing scheme", List.of("standard-webhooks"), "standard-webhooks");
      String secret = sign.required("secret");
      if (secret != null && !secret.startsWith("whsec_")) {
        sign.problem("secret", "a standard-webhooks secret starts with whsec_");
      } else if (secret != null && SourceSection.standardWebhooksSecretProblem(secret) != null) {
        sign.problem("secret", SourceSection.standardWebhooksSecretProblem(secret));
      }
      if (settings.get("sign") instanceof Map<?, ?> map) {
        @SuppressWarnings("unchecked")
        Map<String, Object> signSettings = (Map<String, Object>) map;
        signSettings.put("scheme", scheme);
      }
    }
  }

  private static void salesforce(YamlNodeReader node, Map<String, Object> settings) {
    url(node, "login_url", true);
    node.required("client_id");
    node.required("client_secret");
    node.required("object");
    String version = node.string("api_version", "62.0");
    if (version != null && !API_VERSION.matcher(version).matches()) {
      node.problem("api_version", "bad api_version: expected a version such as \"62.0\"");
    }
    String operation = node.oneOf("operation", "operation", SALESFORCE_OPERATIONS, "upsert");
    if (operation.equals("upsert") && !node.has("external_id_field")) {
      node.problem("external_id_field", "external_id_field is required for operation upsert");
    }
    int batchSize = node.integer("batch_size", 1, 1, 200);
    settings.putIfAbsent("api_version", "62.0");
    settings.put("operation", operation);
    settings.put("batch_size", Integer.toString(batchSize));
  }

  private static void jira(YamlNodeReader node, Map<String, Object> settings) {
    url(node, "base_url", true);
    node.required("email");
    node.required("api_token");
    node.required("project");
    node.duration("search_lag", null);
    settings.putIfAbsent("issue_type", "Task");
  }

  private static void kafka(YamlNodeReader node) {
    node.required("bootstrap_servers");
    node.required("topic");
    node.expression("key");
    YamlNodeReader properties = node.mapping("properties");
    node.stringMap("properties")
        .forEach(
            (name, value) -> {
              String why = KafkaProducerRules.contradiction(name, value);
              if (why != null) {
                properties.problem(name, why);
              }
            });
  }

  private static void jdbc(YamlNodeReader node) {
    String url = node.required("url");
    if (url != null && !url.startsWith("jdbc:")) {
      node.problem("url", "bad url: expected a JDBC URL starting with jdbc:");
    }
    String table = node.required("table");
    if (table != null && !TABLE.matcher(table).matches()) {
      node.problem("table", "bad table \"" + table + "\": expected a name such as schema.table");
    }
    if (!node.has("key_columns")) {
      node.problem("key_columns", "key_columns is required: the columns to upsert on");
    } else if (node.child("key_columns").isList() && node.strings("key_columns").isEmpty()) {
      node.problem("key_columns", "key_columns must name at least one column");
    }
    for (YamlNodeReader.Scalar column : node.scalars("key_columns")) {
      if (!COLUMN.matcher(column.value()).matches()) {
        node.problem(column, "bad column " + column.shown() + ": expected a plain column name");
      }
    }
  }

  /** Messages leave the URL out: it may carry a secret. */
  static void url(YamlNodeReader node, String key, boolean required) {
    String url = required ? node.required(key) : node.string(key);
    if (url != null) {
      try {
        ConfigValues.checkHttpUrl(url);
      } catch (IllegalArgumentException e) {
        node.problem(key, "bad " + key + ": " + e.getMessage());
      }
    }
  }
}
