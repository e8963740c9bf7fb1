package overseer.template;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * How a var value becomes text in a command: scalars as their plain text, lists as one word per
 * item, maps and pairs (lists of single-key maps) as one JSON word.
 */
final class ValueText {
    private final ObjectMapper json;

    ValueText(ObjectMapper json) {
        this.json = json;
    }

    /** The words a value stands for; none for an undefined value. */
    List<String> words(Object value) {
        if (value == null) {
            return List.of();
        }
        if (value instanceof Collection<?> items && !isPairs(items)) {
            return items.stream().map(this::plain).toList();
        }
        return List.of(plain(value));
    }

    /** One word of text for any value. */
    String plain(Object value) {
        return switch (value) {
            case null -> "";
            case String s -> s;
            case Raw r -> r.text();
            case BigDecimal d -> d.toPlainString();
            case Map<?, ?> m -> toJson(m);
            case Collection<?> c -> toJson(c);
            default -> value.toString();
        };
    }

    private static boolean isPairs(Collection<?> items) {
        return !items.isEmpty() && items.stream().allMatch(i -> i instanceof Map<?, ?> m && m.size() == 1);
    }

    private String toJson(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("value cannot be written as JSON: " + e.getOriginalMessage());
        }
    }
}
