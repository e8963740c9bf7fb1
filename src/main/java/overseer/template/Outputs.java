package overseer.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What one rendering printed. Each printed value stands in the rendered text as a marker until the
 * shell context it landed in is known, so the quoting can fit that context; a caller's text never
 * reaches the command until then. Markers carry a random nonce: a value cannot forge one.
 */
final class Outputs {
    private static final char OPEN = '\uE000';
    private static final char CLOSE = '\uE001';

    /** One printed value: its words, and where the template printed it. */
    record Printed(List<String> words, int line, int column) {
        String joined() {
            return String.join(" ", words);
        }
    }

    /** A marker found in rendered text: the value it stands for and the index just after it. */
    record Marker(Printed printed, int end) {}

    private final String prefix;
    private final List<Printed> printed = new ArrayList<>();

    Outputs(long nonce) {
        this.prefix = OPEN + Long.toUnsignedString(nonce) + ":";
    }

    /** Registers a value's words and returns the marker to render in their place. */
    String mark(List<String> words, int line, int column) {
        // A value that holds markers is a rendered macro or {% set %} block: it is data now.
        printed.add(new Printed(words.stream().map(this::plain).toList(), line, column));
        return prefix + (printed.size() - 1) + CLOSE;
    }

    /** The marker that starts at {@code at}, if one does. */
    Optional<Marker> at(String text, int at) {
        if (text.charAt(at) != OPEN || !text.startsWith(prefix, at)) {
            return Optional.empty();
        }
        int close = text.indexOf(CLOSE, at + prefix.length());
        if (close < 0) {
            return Optional.empty();
        }
        try {
            int index = Integer.parseInt(text.substring(at + prefix.length(), close));
            return index >= 0 && index < printed.size()
                    ? Optional.of(new Marker(printed.get(index), close + 1))
                    : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** {@code text} with each marker replaced by its value's words joined by blanks. */
    String plain(String text) {
        return replace(text, Printed::joined);
    }

    /** {@code text} with each marker replaced by what {@code how} makes of its value. */
    String replace(String text, java.util.function.Function<Printed, String> how) {
        if (text.indexOf(OPEN) < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            Optional<Marker> m = at(text, i);
            if (m.isPresent()) {
                out.append(how.apply(m.get().printed()));
                i = m.get().end();
            } else {
                out.append(text.charAt(i++));
            }
        }
        return out.toString();
    }
}
