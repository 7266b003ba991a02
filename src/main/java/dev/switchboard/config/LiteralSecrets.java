package dev.switchboard.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Finds credentials written literally in a configuration file. The configuration offers {@code
 * ${ENV_VAR}} and {@code ${file:/path}} for secrets (docs/guarantees.md) without forbidding
 * literals, so a literal is a warning, not a problem: it still loads, but the file itself then
 * becomes a secret (in version control, in a support ticket, in a backup). A value counts as
 * written by reference when it contains a substitution anywhere ({@code "switchboard:${PASSWORD}"}
 * keeps the user literal and the password out of the file). Warnings name the file, line and key,
 * never the value.
 */
public final class LiteralSecrets {
  /**
   * Keys whose value is a credential, wherever they appear (compared in lower case: HTTP header
   * names under {@code headers}); also any Kafka {@code *.password} property.
   */
  static final Set<String> SECRET_KEYS =
      Set.of(
          "secrets",
          "secret",
          "password",
          "token",
          "client_secret",
          "api_token",
          "sasl.jaas.config",
          "authorization",
          "x-api-key");

  private LiteralSecrets() {}

  /** The literal credentials in {@code file}; empty when it cannot be read (load reports that). */
  public static List<ConfigProblem> find(Path file) {
    Node root;
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      root = new Yaml(new LoaderOptions()).compose(reader);
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
    if (YamlAliases.check(root) != null) {
      return List.of(); // load refuses it, and says why
    }
    List<ConfigProblem> found = new ArrayList<>();
    walk(file.toString(), root, "", false, found);
    return List.copyOf(found);
  }

  private static void walk(
      String file, Node node, String path, boolean secret, List<ConfigProblem> found) {
    if (node instanceof MappingNode mapping) {
      for (NodeTuple tuple : mapping.getValue()) {
        if (tuple.getKeyNode() instanceof ScalarNode key) {
          String name = key.getValue();
          String child = path.isEmpty() ? name : path + "." + name;
          String lower = name.toLowerCase(java.util.Locale.ROOT);
          boolean secretKey = SECRET_KEYS.contains(lower) || lower.endsWith(".password");
          walk(file, tuple.getValueNode(), child, secretKey, found);
        }
      }
    } else if (node instanceof SequenceNode sequence) {
      List<Node> items = sequence.getValue();
      for (int i = 0; i < items.size(); i++) {
        walk(file, items.get(i), path + "[" + i + "]", secret, found);
      }
    } else if (secret && node instanceof ScalarNode scalar) {
      String value = scalar.getValue();
      if (!value.isEmpty() && !value.contains("${")) {
        found.add(
            new ConfigProblem(
                file,
                scalar.getStartMark().getLine() + 1,
                path,
                "a credential written in the file; use ${ENV_VAR} or ${file:/path} so the"
                    + " configuration file is not itself a secret"));
      }
    }
  }
}
