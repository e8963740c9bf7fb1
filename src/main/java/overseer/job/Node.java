package overseer.job;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed YAML or JSON document, format-neutral, with the position of every value so that
 * validation can point at {@code file:line:col}.
 */
public sealed interface Node {
    Position position();

    /** A short name of the node's kind for messages ("a string", "a list"…). */
    String kind();

    /** The value as plain Java data: String, BigInteger, Double, Boolean, List, Map or null. */
    Object plain();

    /** The text of a string, number or boolean; empty for null, lists and mappings. */
    default Optional<String> scalarText() {
        return switch (this) {
            case Text t -> Optional.of(t.value());
            case Int i -> Optional.of(i.value().toString());
            case Decimal d -> Optional.of(Double.toString(d.value()));
            case Bool b -> Optional.of(Boolean.toString(b.value()));
            case Mapping m -> Optional.empty();
            case Sequence s -> Optional.empty();
            case Null n -> Optional.empty();
        };
    }

    record Mapping(Position position, List<Entry> entries) implements Node {
        public Mapping {
            entries = List.copyOf(entries);
        }

        @Override
        public String kind() {
            return "a mapping";
        }

        @Override
        public Object plain() {
            Map<String, Object> map = new LinkedHashMap<>();
            entries.forEach(e -> map.put(e.key(), e.value().plain()));
            return map;
        }
    }

    record Entry(String key, Position keyPosition, Node value) {}

    record Sequence(Position position, List<Node> items) implements Node {
        public Sequence {
            items = List.copyOf(items);
        }

        @Override
        public String kind() {
            return "a list";
        }

        @Override
        public Object plain() {
            return items.stream().map(Node::plain).toList();
        }
    }

    record Text(Position position, String value) implements Node {
        @Override
        public String kind() {
            return "a string";
        }

        @Override
        public Object plain() {
            return value;
        }
    }

    record Int(Position position, BigInteger value) implements Node {
        @Override
        public String kind() {
            return "an integer";
        }

        @Override
        public Object plain() {
            return value;
        }
    }

    record Decimal(Position position, double value) implements Node {
        @Override
        public String kind() {
            return "a number";
        }

        @Override
        public Object plain() {
            return value;
        }
    }

    record Bool(Position position, boolean value) implements Node {
        @Override
        public String kind() {
            return "a boolean";
        }

        @Override
        public Object plain() {
            return value;
        }
    }

    record Null(Position position) implements Node {
        @Override
        public String kind() {
            return "null";
        }

        @Override
        public Object plain() {
            return null;
        }
    }
}
