package overseer.job;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link Node} tree from a stream of parser events, enforcing the limits that make
 * untrusted documents safe to read: nesting depth, total node count (counting every alias
 * expansion, so an alias bomb is stopped early) and unique mapping keys.
 */
final class TreeBuilder {
    static final int MAX_DEPTH = 64;
    static final int MAX_NODES = 100_000;

    private sealed interface Frame permits MappingFrame, SequenceFrame {}

    private static final class MappingFrame implements Frame {
        final Position position;
        final List<Node.Entry> entries = new ArrayList<>();
        final Map<String, Position> seen = new HashMap<>();
        String pendingKey;
        Position pendingKeyPosition;

        MappingFrame(Position position) {
            this.position = position;
        }
    }

    private static final class SequenceFrame implements Frame {
        final Position position;
        final List<Node> items = new ArrayList<>();

        SequenceFrame(Position position) {
            this.position = position;
        }
    }

    private final Deque<Frame> stack = new ArrayDeque<>();
    private final List<Node> roots = new ArrayList<>();
    private long nodes;

    void startMapping(Position position) throws DocumentException {
        countNode(position);
        push(new MappingFrame(position));
    }

    void startSequence(Position position) throws DocumentException {
        countNode(position);
        push(new SequenceFrame(position));
    }

    /** Ends the innermost mapping or sequence and returns it (for anchors). */
    Node end() throws DocumentException {
        Frame frame = stack.pop();
        Node node = switch (frame) {
            case MappingFrame m -> new Node.Mapping(m.position, m.entries);
            case SequenceFrame s -> new Node.Sequence(s.position, s.items);
        };
        add(node);
        return node;
    }

    void scalar(Node node) throws DocumentException {
        countNode(node.position());
        add(node);
    }

    /** Re-uses an already built node; {@code weight} is how many nodes it expands to. */
    void alias(Node node, long weight, Position at) throws DocumentException {
        nodes += weight;
        if (nodes > MAX_NODES) {
            throw new DocumentException(
                    at, "document expands to more than " + MAX_NODES + " values (too many aliases?)");
        }
        add(node);
    }

    long nodeCount() {
        return nodes;
    }

    List<Node> roots() {
        return roots;
    }

    private void push(Frame frame) throws DocumentException {
        if (stack.size() >= MAX_DEPTH) {
            Position p = switch (frame) {
                case MappingFrame m -> m.position;
                case SequenceFrame s -> s.position;
            };
            throw new DocumentException(p, "nesting deeper than " + MAX_DEPTH + " levels");
        }
        stack.push(frame);
    }

    private void countNode(Position position) throws DocumentException {
        if (++nodes > MAX_NODES) {
            throw new DocumentException(position, "document has more than " + MAX_NODES + " values");
        }
    }

    private void add(Node node) throws DocumentException {
        Frame top = stack.peek();
        switch (top) {
            case null -> roots.add(node);
            case SequenceFrame s -> s.items.add(node);
            case MappingFrame m
            when m.pendingKey == null -> {
                String key = node.scalarText()
                        .orElseThrow(() -> new DocumentException(
                                node.position(), "a mapping key must be a plain value, not " + node.kind()));
                Position earlier = m.seen.putIfAbsent(key, node.position());
                if (earlier != null) {
                    throw new DocumentException(
                            node.position(), "duplicate key '" + key + "' (first at line " + earlier.line() + ")");
                }
                m.pendingKey = key;
                m.pendingKeyPosition = node.position();
            }
            case MappingFrame m -> {
                m.entries.add(new Node.Entry(m.pendingKey, m.pendingKeyPosition, node));
                m.pendingKey = null;
                m.pendingKeyPosition = null;
            }
        }
    }
}
