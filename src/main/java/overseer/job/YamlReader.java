package overseer.job;

import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.common.Anchor;
import org.snakeyaml.engine.v2.events.AliasEvent;
import org.snakeyaml.engine.v2.events.CollectionStartEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.events.ScalarEvent;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.resolver.CoreScalarResolver;
import org.snakeyaml.engine.v2.resolver.ScalarResolver;

/**
 * Reads one YAML document into a {@link Node} tree from parser events, so that aliases, depth
 * and size are under our control instead of the composer's.
 */
final class YamlReader {
    private static final ScalarResolver RESOLVER = new CoreScalarResolver(false);
    /** Immutable, so shared; the code point limit is above the byte limit of job files. */
    private static final LoadSettings SETTINGS = LoadSettings.builder()
            .setUseMarks(true)
            .setCodePointLimit((int) JobParser.MAX_FILE_BYTES + 1)
            .build();

    private record Anchored(Node node, long weight) {}

    Node read(String text) throws DocumentException {
        TreeBuilder tree = new TreeBuilder();
        Map<String, Anchored> anchors = new HashMap<>();
        Deque<Optional<Anchor>> openAnchors = new ArrayDeque<>();
        Deque<Long> openCounts = new ArrayDeque<>();
        int documents = 0;
        try {
            for (Event event : new Parse(SETTINGS).parseString(text)) {
                Position at = position(event.getStartMark());
                switch (event.getEventId()) {
                    case DocumentStart -> {
                        if (++documents > 1) {
                            throw new DocumentException(at, "a job file holds one YAML document, found a second");
                        }
                    }
                    case MappingStart, SequenceStart -> {
                        CollectionStartEvent start = (CollectionStartEvent) event;
                        checkTag(start.getTag(), at, event.getEventId() == Event.ID.MappingStart ? Tag.MAP : Tag.SEQ);
                        openAnchors.push(start.getAnchor());
                        openCounts.push(tree.nodeCount());
                        if (event.getEventId() == Event.ID.MappingStart) {
                            tree.startMapping(at);
                        } else {
                            tree.startSequence(at);
                        }
                    }
                    case MappingEnd, SequenceEnd -> {
                        Node node = tree.end();
                        Optional<Anchor> anchor = openAnchors.pop();
                        long before = openCounts.pop();
                        anchor.ifPresent(a -> anchors.put(a.getValue(), new Anchored(node, tree.nodeCount() - before)));
                    }
                    case Scalar -> {
                        ScalarEvent scalar = (ScalarEvent) event;
                        Node node = scalar(scalar, at);
                        tree.scalar(node);
                        scalar.getAnchor().ifPresent(a -> anchors.put(a.getValue(), new Anchored(node, 1)));
                    }
                    case Alias -> {
                        String name = ((AliasEvent) event).getAlias().getValue();
                        Anchored target = anchors.get(name);
                        if (target == null) {
                            throw new DocumentException(at, "unknown or recursive alias '*" + name + "'");
                        }
                        tree.alias(target.node(), target.weight(), at);
                    }
                    default -> {}
                }
            }
        } catch (MarkedYamlEngineException e) {
            Position at = position(e.getProblemMark().or(e::getContextMark));
            String problem = oneLine(e.getProblem() == null ? e.getContext() : e.getProblem());
            throw new DocumentException(at, "YAML syntax: " + problem + hint(problem));
        } catch (YamlEngineException e) {
            throw new DocumentException(Position.START, "YAML: " + oneLine(e.getMessage()));
        }
        if (tree.roots().isEmpty()) {
            throw new DocumentException(Position.START, "the file is empty");
        }
        return tree.roots().getFirst();
    }

    /** What to do about the YAML mistakes people make most, such as a ': ' inside a plain value. */
    private static String hint(String problem) {
        if (problem.startsWith("mapping values are not allowed here")) {
            return " (a value holding ': ' must be quoted whole, or written as a block: 'command: |'"
                    + " and the command on the next line, indented)";
        }
        return "";
    }

    private static Node scalar(ScalarEvent event, Position at) throws DocumentException {
        String value = event.getValue();
        Optional<String> explicit = event.getTag().filter(t -> !t.equals("!"));
        Tag tag;
        if (explicit.isPresent()) {
            tag = new Tag(explicit.get());
        } else if (event.isPlain()) {
            tag = RESOLVER.resolve(value, true);
        } else {
            tag = Tag.STR;
        }
        if ((tag.equals(Tag.INT) || tag.equals(Tag.FLOAT)) && value.length() > Numbers.MAX_LENGTH) {
            // Reading a number of a million digits takes seconds (BigInteger's parse is quadratic).
            throw new DocumentException(at, Numbers.tooLong(value));
        }
        try {
            // The core resolver reads ${NAME} as an environment reference; here it is plain text.
            if (tag.equals(Tag.STR) || tag.equals(Tag.ENV_TAG)) {
                return new Node.Text(at, value);
            } else if (tag.equals(Tag.NULL)) {
                return new Node.Null(at);
            } else if (tag.equals(Tag.BOOL)) {
                return new Node.Bool(at, value.toLowerCase(Locale.ROOT).equals("true"));
            } else if (tag.equals(Tag.INT)) {
                return new Node.Int(at, integer(value));
            } else if (tag.equals(Tag.FLOAT)) {
                return new Node.Decimal(at, decimal(value));
            }
        } catch (NumberFormatException e) {
            throw new DocumentException(at, "'" + Problem.echo(value) + "' is not a valid " + tag.getValue());
        }
        throw new DocumentException(at, "unsupported YAML tag " + tag.getValue());
    }

    private static BigInteger integer(String value) {
        String v = value.replace("_", "");
        int sign = 1;
        if (v.startsWith("-") || v.startsWith("+")) {
            sign = v.startsWith("-") ? -1 : 1;
            v = v.substring(1);
        }
        BigInteger magnitude;
        if (v.startsWith("0x")) {
            magnitude = new BigInteger(v.substring(2), 16);
        } else if (v.startsWith("0o")) {
            magnitude = new BigInteger(v.substring(2), 8);
        } else {
            magnitude = new BigInteger(v);
        }
        return sign < 0 ? magnitude.negate() : magnitude;
    }

    private static double decimal(String value) {
        String v = value.toLowerCase(Locale.ROOT);
        return switch (v) {
            case ".inf", "+.inf" -> Double.POSITIVE_INFINITY;
            case "-.inf" -> Double.NEGATIVE_INFINITY;
            case ".nan" -> Double.NaN;
            default -> Double.parseDouble(v);
        };
    }

    private static void checkTag(Optional<String> tag, Position at, Tag expected) throws DocumentException {
        if (tag.isPresent() && !tag.get().equals("!") && !tag.get().equals(expected.getValue())) {
            throw new DocumentException(at, "unsupported YAML tag " + tag.get());
        }
    }

    private static Position position(Optional<Mark> mark) {
        return mark.map(m -> new Position(m.getLine() + 1, m.getColumn() + 1)).orElse(Position.START);
    }

    private static String oneLine(String message) {
        return message == null ? "unreadable" : message.strip().replaceAll("\\s*\\n\\s*", " ");
    }
}
