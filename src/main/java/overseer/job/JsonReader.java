package overseer.job;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/** Reads one JSON document into a {@link Node} tree with positions. */
final class JsonReader {
    private final JsonFactory factory = new JsonFactory();

    Node read(String text) throws DocumentException {
        TreeBuilder tree = new TreeBuilder();
        try (JsonParser parser = factory.createParser(text)) {
            JsonToken token;
            while ((token = parser.nextToken()) != null) {
                Position at = position(parser.currentTokenLocation());
                switch (token) {
                    case START_OBJECT -> tree.startMapping(at);
                    case START_ARRAY -> tree.startSequence(at);
                    case END_OBJECT, END_ARRAY -> tree.end();
                    case FIELD_NAME -> tree.scalar(new Node.Text(at, parser.currentName()));
                    case VALUE_STRING -> tree.scalar(new Node.Text(at, parser.getText()));
                    case VALUE_NUMBER_INT -> tree.scalar(new Node.Int(at, parser.getBigIntegerValue()));
                    case VALUE_NUMBER_FLOAT -> tree.scalar(new Node.Decimal(at, parser.getDoubleValue()));
                    case VALUE_TRUE, VALUE_FALSE -> tree.scalar(new Node.Bool(at, token == JsonToken.VALUE_TRUE));
                    case VALUE_NULL -> tree.scalar(new Node.Null(at));
                    default -> throw new DocumentException(at, "unsupported JSON token " + token);
                }
            }
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

    private static Position position(JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return Position.START;
        }
        return new Position(location.getLineNr(), Math.max(1, location.getColumnNr()));
    }
}
