package dev.switchboard.config;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Checks the aliases of a composed YAML document before anything walks it. SnakeYAML composes an
 * anchor used inside itself ({@code a: &x [*x]}) into a node that contains itself, which a walk
 * follows until the stack overflows; and aliases of aliases multiply what a walk visits (ten levels
 * of five aliases is ten million values from a few hundred bytes). Both are refused with the
 * anchor's line.
 */
final class YamlAliases {
  /**
   * The most values (scalars, lists, mappings, each alias counted where it is used) a walk sees.
   */
  static final int MOST_NODES = 100_000;

  /** Why the document is refused, at a 1-based line. */
  record Problem(int line, String message) {}

  private YamlAliases() {}

  /** Null when {@code root} (which may be null) can be walked. */
  static Problem check(Node root) {
    if (root == null) {
      return null;
    }
    return visit(root, Collections.newSetFromMap(new IdentityHashMap<>()), new int[1]);
  }

  private static Problem visit(Node node, Set<Node> inside, int[] seen) {
    if (++seen[0] > MOST_NODES) {
      return new Problem(
          line(node),
          "aliases of aliases expand the document past "
              + MOST_NODES
              + " values (the value at this line is one of those repeated); write the values out"
              + " or use fewer aliases");
    }
    if (!(node instanceof SequenceNode) && !(node instanceof MappingNode)) {
      return null;
    }
    if (!inside.add(node)) {
      return new Problem(
          line(node), "the anchor at this line is used inside itself (a recursive alias)");
    }
    try {
      if (node instanceof SequenceNode list) {
        for (Node item : list.getValue()) {
          Problem p = visit(item, inside, seen);
          if (p != null) {
            return p;
          }
        }
      } else {
        for (NodeTuple entry : ((MappingNode) node).getValue()) {
          Problem p = visit(entry.getKeyNode(), inside, seen);
          if (p == null) {
            p = visit(entry.getValueNode(), inside, seen);
          }
          if (p != null) {
            return p;
          }
        }
      }
      return null;
    } finally {
      inside.remove(node);
    }
  }

  private static int line(Node node) {
    return node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
  }
}
