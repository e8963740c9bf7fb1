package overseer.job;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/** Reads one JSON document into a {@link Node} tree with positions. */
final class JsonReader {
    // Jackson refuses numbers past this length as it reads them (its default is 1000).
    private final JsonFactory factory = JsonFactory.builder()
            .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
                    .maxNumberLength(Numbers.MAX_LENGTH)
                    .build())
            .build();

    Node read(String text) throws DocumentException {
        TreeBuilder tree = new TreeBuilder();
        try (JsonParser parser = factory.createParser(text)) {
            JsonToken token;
            while ((token = next(parser)) != null) {
                Position at = position(parser.currentTokenLocation());
                switch (token) {
                    case START_OBJECT -> tree.startMapping(at);
                    case START_ARRAY -> tree.startSequence(at);
                    case END_OBJECT, END_ARRAY -> tree.end();
                    case FIELD_NAME -> tree.scalar(new Node.Text(at, parser.currentName()));
                    case VALUE_STRING -> tree.scalar(new Node.Text(at, parser.getText()));
                    case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> tree.scalar(number(parser, token, at));
                    case VALUE_TRUE, VALUE_FALSE -> tree.scalar(new Node.Bool(at, token == JsonToken.VALUE_TRUE));
                    case VALUE_NULL -> tree.scalar(new Node.Null(at));
                    default -> throw new DocumentException(at, "unsupported JSON token " + token);
                }
            }
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            throw new DocumentException(
                    position(e.getLocation()), "a number is too long (at most " + Numbers.MAX_LENGTH + " characters)");
        } catch (JsonProcessingException e) {
            throw new DocumentException(position(e.getLocation()), "JSON syntax: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new DocumentException(Position.START, "JSON: " + e.getMessage());
        }
        if (tree.roots().isEmpty()) {
            throw new DocumentException(Position.START, "the file is empty");
        }
        if (tree.roots().size() > 1) {
            throw new DocumentException(
                    tree.roots().get(1).position(), "a job file holds one JSON value, found a second");
        }
        return tree.roots().getFirst();
    }

    /** The next token; a number too long to read is a problem at the number. */
    private static JsonToken next(JsonParser parser) throws IOException, DocumentException {
        try {
            return parser.nextToken();
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            throw new DocumentException(
                    position(parser.currentTokenLocation()),
                    "a number is too long (at most " + Numbers.MAX_LENGTH + " characters)");
        }
    }

    private static Node number(JsonParser parser, JsonToken token, Position at) throws IOException, DocumentException {
        String text = parser.getText();
        if (text.length() > Numbers.MAX_LENGTH) {
            throw new DocumentException(at, Numbers.tooLong(text));
        }
        return token == JsonToken.VALUE_NUMBER_INT
                ? new Node.Int(at, parser.getBigIntegerValue())
                : new Node.Decimal(at, parser.getDoubleValue());
    }

    private static Position position(JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return Position.START;
        }
        return new Position(location.getLineNr(), Math.max(1, location.getColumnNr()));
    }
}
