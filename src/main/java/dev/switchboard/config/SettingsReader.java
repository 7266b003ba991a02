package dev.switchboard.config;

import dev.switchboard.expr.Expression;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * What a {@link ConnectorType} reads its keys with: one mapping of the file, every problem reported
 * with its line and dotted key, every reader returning its default (or null) for a value it refused
 * so that reading goes on. Messages never repeat a substituted value.
 */
public final class SettingsReader {
  private final YamlNodeReader node;

  SettingsReader(YamlNodeReader node) {
    this.node = node;
  }

  /** One item of a list, for a problem about that item (at its own line). */
  public static final class Item {
    private final YamlNodeReader.Scalar scalar;

    private Item(YamlNodeReader.Scalar scalar) {
      this.scalar = scalar;
    }

    public String value() {
      return scalar.value();
    }

    /** The value for a message: quoted as written, or only the reference when substituted. */
    public String shown() {
      return scalar.shown();
    }
  }

  public boolean has(String key) {
    return node.has(key);
  }

  /** Whether {@code key} holds a list (present and a sequence). */
  public boolean isList(String key) {
    return node.child(key).isList();
  }

  /** The mapping at {@code key}; absent, with a problem, when it is something else. */
  public SettingsReader mapping(String key) {
    return new SettingsReader(node.mapping(key));
  }

  public boolean present() {
    return node.present();
  }

  /** Reports every key of this mapping that is not in {@code known}, with a suggestion. */
  public void checkKeys(Collection<String> known) {
    node.checkKeys(known);
  }

  public void problem(String key, String message) {
    node.problem(key, message);
  }

  public void problem(Item item, String message) {
    node.problem(item.scalar, message);
  }

  /** The text of {@code key}, or null when absent or unusable. */
  public String string(String key) {
    return node.string(key);
  }

  public String string(String key, String defaultValue) {
    return node.string(key, defaultValue);
  }

  /** The text of {@code key}; absent or empty is a problem ("key is required"). */
  public String required(String key) {
    return node.required(key);
  }

  /** One of {@code allowed}, else a problem naming what is expected. */
  public String oneOf(String key, String noun, List<String> allowed, String defaultValue) {
    return node.oneOf(key, noun, allowed, defaultValue);
  }

  public Duration duration(String key, Duration defaultValue) {
    return node.duration(key, defaultValue);
  }

  public int integer(String key, int defaultValue, int min, int max) {
    return node.integer(key, defaultValue, min, max);
  }

  /** Compiles the JSONata at {@code key}; null when absent or when it does not compile. */
  public Expression expression(String key) {
    return node.expression(key);
  }

  /** The items of the list at {@code key} (unusable items left out). */
  public List<Item> items(String key) {
    return node.scalars(key).stream().map(Item::new).toList();
  }

  public List<String> strings(String key) {
    return node.strings(key);
  }

  /** The mapping at {@code key} with text values, in file order; empty when absent. */
  public Map<String, String> stringMap(String key) {
    return node.stringMap(key);
  }

  /**
   * An http(s) URL with a host; the message leaves the URL out, as it may carry a secret.
   *
   * @return the URL, or null when absent or refused
   */
  public String httpUrl(String key, boolean required) {
    String url = required ? node.required(key) : node.string(key);
    if (url != null) {
      try {
        ConfigValues.checkHttpUrl(url);
      } catch (IllegalArgumentException e) {
        node.problem(key, "bad " + key + ": " + e.getMessage());
        return null;
      }
    }
    return url;
  }

  /**
   * A Standard Webhooks {@code whsec_<base64>} secret, checked as a source's secrets are.
   *
   * @return the secret, or null when absent or refused
   */
  public String standardWebhooksSecret(String key) {
    String secret = node.required(key);
    if (secret != null && !secret.startsWith("whsec_")) {
      node.problem(key, "a standard-webhooks secret starts with whsec_");
      return null;
    } else if (secret != null && SourceSection.standardWebhooksSecretProblem(secret) != null) {
      node.problem(key, SourceSection.standardWebhooksSecretProblem(secret));
      return null;
    }
    return secret;
  }
}
