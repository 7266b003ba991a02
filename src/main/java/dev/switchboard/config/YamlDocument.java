package dev.switchboard.config;

import dev.switchboard.config.YamlNodeReader.Scalar;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * What every {@link YamlNodeReader} of one file shares: where problems go, the substitutor, and
 * per-node caches, so that a scalar read twice (typed, then copied into a settings map) is
 * substituted, and its problems reported, only once.
 */
final class YamlDocument {
  final Problems problems;
  private final Substitutor substitutor;
  private final Map<Node, Scalar> scalars = new IdentityHashMap<>();
  private final Map<Node, Map<String, NodeTuple>> mappings = new IdentityHashMap<>();

  YamlDocument(Problems problems, Substitutor substitutor) {
    this.problems = problems;
    this.substitutor = substitutor;
  }

  /** The substituted scalar at {@code node}; a list or mapping gives an unusable scalar. */
  Scalar scalar(Node node, String path) {
    return scalars.computeIfAbsent(node, n -> substitute(n, path));
  }

  private Scalar substitute(Node node, String path) {
    int line = lineOf(node);
    if (!(node instanceof ScalarNode scalarNode)) {
      problems.add(line, path, "expected a single value, found " + kind(node));
      return new Scalar(null, "", false, line, path);
    }
    String raw = scalarNode.getValue();
    Substitutor.Result result = substitutor.substitute(raw);
    for (String error : result.errors()) {
      problems.add(line, path, error);
    }
    return new Scalar(result.value(), raw, result.substituted(), line, path);
  }

  /** Key → tuple in file order, built once per node; odd and duplicate keys are reported then. */
  Map<String, NodeTuple> tuples(MappingNode node, String path) {
    return mappings.computeIfAbsent(node, n -> index((MappingNode) n, path));
  }

  private Map<String, NodeTuple> index(MappingNode mapping, String path) {
    Map<String, NodeTuple> index = new LinkedHashMap<>();
    for (NodeTuple tuple : mapping.getValue()) {
      Node key = tuple.getKeyNode();
      if (!(key instanceof ScalarNode scalarKey)) {
        problems.add(lineOf(key), path, "a key must be a single value, found " + kind(key));
      } else if (index.putIfAbsent(scalarKey.getValue(), tuple) != null) {
        String name = scalarKey.getValue();
        String keyPath = path.isEmpty() ? name : path + "." + name;
        problems.add(lineOf(key), keyPath, "duplicate key \"" + name + "\"");
      }
    }
    return index;
  }

  /** An absent value and a YAML null ({@code key:} alone, {@code ~}, {@code null}) are alike. */
  static boolean isNull(Node node) {
    return node == null || (node instanceof ScalarNode && Tag.NULL.equals(node.getTag()));
  }

  static int lineOf(Node node) {
    return node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
  }

  static String kind(Node node) {
    if (node instanceof MappingNode) {
      return "a mapping";
    }
    return node instanceof SequenceNode ? "a list" : "a single value";
  }
}
