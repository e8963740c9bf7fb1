package overseer.job;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a {@code script:} value into the script path and its argument templates: words are
 * separated by blanks; single or double quotes keep blanks inside a word. Template braces are
 * kept whole so that {@code {{ name }}} stays one word.
 */
final class ScriptWords {
    private ScriptWords() {}

    static List<String> split(String value) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        int braces = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (braces > 0) {
                word.append(c);
                if ((c == '}' || c == '%') && i + 1 < value.length() && value.charAt(i + 1) == '}') {
                    word.append('}');
                    i++;
                    braces--;
                }
            } else if (c == '{'
                    && i + 1 < value.length()
                    && (value.charAt(i + 1) == '{' || value.charAt(i + 1) == '%')) {
                word.append(c).append(value.charAt(++i));
                braces++;
                inWord = true;
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }
}
