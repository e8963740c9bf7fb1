package overseer.template;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a rendered command the way {@code /bin/sh} will, to learn the context each printed value
 * landed in — plain code, single or double quotes, a here-document, a comment, a substitution — and
 * quotes it for exactly that context. Contexts where no quoting is safe are refused. It also says
 * whether words can be appended at the end without starting a new command.
 */
final class ShellText {
    /** Words that leave the shell expecting a command next. */
    private static final Set<String> OPENERS = Set.of("if", "then", "else", "elif", "do", "while", "until", "!", "{");

    private static final Pattern ASSIGNMENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*=");

    private enum Kind {
        CODE,
        SUBSTITUTION,
        SINGLE,
        DOUBLE,
        BACKTICK,
        PARAMETER,
        ARITHMETIC,
        COMMENT,
        HEREDOC,
        LITERAL_HEREDOC
    }

    /** Where a value was printed inside double quotes: allowed and escaped, but worth a warning. */
    record Placement(int line, int column) {}

    /** The command with every value quoted; why words cannot be appended, if they cannot. */
    record Scan(String text, Optional<String> notAppendable, List<Placement> doubleQuoted) {}

    private record Heredoc(String delimiter, boolean literal, boolean stripTabs) {}

    private static final class Frame {
        final Kind kind;
        final Heredoc heredoc;
        int depth;
        boolean needCommand = true;
        boolean redirectNext;
        final StringBuilder word = new StringBuilder();
        boolean inWord;

        Frame(Kind kind, Heredoc heredoc) {
            this.kind = kind;
            this.heredoc = heredoc;
        }

        boolean code() {
            return kind == Kind.CODE || kind == Kind.SUBSTITUTION;
        }

        void wordChar(char c) {
            word.append(c);
            inWord = true;
        }

        void endWord() {
            if (!inWord) {
                return;
            }
            String w = word.toString();
            word.setLength(0);
            inWord = false;
            if (redirectNext) {
                redirectNext = false;
            } else if (needCommand) {
                needCommand = OPENERS.contains(w) || ASSIGNMENT.matcher(w).lookingAt();
            }
        }
    }

    private final String text;
    private final Outputs outputs;
    private final StringBuilder out = new StringBuilder();
    private final Deque<Frame> stack = new ArrayDeque<>();
    private final List<Heredoc> pending = new ArrayList<>();
    private final List<Placement> doubleQuoted = new ArrayList<>();
    private boolean endsWithHeredoc;
    private boolean endsWithEscape;
    private int i;

    private ShellText(String text, Outputs outputs) {
        this.text = text;
        this.outputs = outputs;
        stack.push(new Frame(Kind.CODE, null));
    }

    static Scan scan(String text, Outputs outputs) throws RenderException {
        return new ShellText(text, outputs).run();
    }

    private Scan run() throws RenderException {
        int n = text.length();
        boolean lineStart = true;
        while (i < n) {
            Frame f = stack.peek();
            if (lineStart && (f.kind == Kind.HEREDOC || f.kind == Kind.LITERAL_HEREDOC) && endsHeredoc(f)) {
                continue;
            }
            lineStart = false;
            Optional<Outputs.Marker> marker = outputs.at(text, i);
            if (marker.isPresent()) {
                out.append(quote(f, marker.get().printed()));
                if (f.code()) {
                    f.wordChar('x');
                }
                i = marker.get().end();
                continue;
            }
            char c = text.charAt(i);
            switch (f.kind) {
                case CODE, SUBSTITUTION -> code(f, c);
                case SINGLE -> {
                    if (c == '\'') {
                        stack.pop();
                    }
                    copy(1);
                }
                case DOUBLE -> {
                    if (c == '"') {
                        stack.pop();
                        copy(1);
                    } else {
                        expansions(c);
                    }
                }
                case BACKTICK -> {
                    if (c == '`') {
                        stack.pop();
                        copy(1);
                    } else {
                        copy(c == '\\' ? 2 : 1);
                    }
                }
                case PARAMETER -> {
                    if (c == '}') {
                        stack.pop();
                    }
                    copy(c == '\\' ? 2 : 1);
                }
                case ARITHMETIC -> {
                    if (c == '(') {
                        f.depth++;
                        copy(1);
                    } else if (c == ')' && f.depth == 0 && text.startsWith("))", i)) {
                        stack.pop();
                        copy(2);
                    } else {
                        f.depth -= c == ')' ? 1 : 0;
                        copy(1);
                    }
                }
                case COMMENT -> {
                    if (c == '\n') {
                        stack.pop();
                    } else {
                        copy(1);
                    }
                }
                case HEREDOC -> {
                    if (c == '\n') {
                        copy(1);
                    } else {
                        expansions(c);
                    }
                }
                case LITERAL_HEREDOC -> copy(1);
            }
            lineStart = c == '\n';
        }
        Frame top = stack.peek();
        if (top.code()) {
            top.endWord();
        }
        return new Scan(out.toString(), notAppendable(), List.copyOf(doubleQuoted));
    }

    private Optional<String> notAppendable() {
        if (endsWithHeredoc) {
            return Optional.of("the command ends with a here-document");
        }
        if (stack.size() > 1 || !pending.isEmpty()) {
            return Optional.of(
                    switch (stack.peek().kind) {
                        case COMMENT -> "the command ends in a comment";
                        case SINGLE, DOUBLE -> "the command ends inside quotes";
                        case HEREDOC, LITERAL_HEREDOC, CODE -> "the command ends inside a here-document";
                        default -> "the command ends inside a substitution";
                    });
        }
        if (endsWithEscape) {
            return Optional.of("the command ends with a backslash");
        }
        if (stack.peek().needCommand) {
            return Optional.of("the command ends where a new command would start");
        }
        return Optional.empty();
    }

    /** At the start of a body line: whether it is the delimiter, which ends the here-document. */
    private boolean endsHeredoc(Frame f) throws RenderException {
        int end = text.indexOf('\n', i);
        String line = text.substring(i, end < 0 ? text.length() : end);
        String compared = f.heredoc.stripTabs() ? line.replaceFirst("^\t+", "") : line;
        if (!compared.equals(f.heredoc.delimiter())) {
            String rendered = outputs.plain(compared);
            if (!rendered.equals(compared) && rendered.equals(f.heredoc.delimiter())) {
                throw new RenderException("a value would end the here-document '" + f.heredoc.delimiter() + "'");
            }
            return false;
        }
        copy(line.length() + (end < 0 ? 0 : 1));
        stack.pop();
        endsWithHeredoc = end < 0;
        startHeredoc();
        return true;
    }

    private void startHeredoc() {
        if (!pending.isEmpty()) {
            Heredoc h = pending.removeFirst();
            stack.push(new Frame(h.literal() ? Kind.LITERAL_HEREDOC : Kind.HEREDOC, h));
        }
    }

    /** Inside double quotes or a here-document body: what starts a nested context there. */
    private void expansions(char c) {
        if (c == '\\') {
            copy(2);
        } else if (c == '`') {
            stack.push(new Frame(Kind.BACKTICK, null));
            copy(1);
        } else if (c == '$' && text.startsWith("$((", i)) {
            stack.push(new Frame(Kind.ARITHMETIC, null));
            copy(3);
        } else if (c == '$' && text.startsWith("$(", i)) {
            stack.push(new Frame(Kind.SUBSTITUTION, null));
            copy(2);
        } else if (c == '$' && text.startsWith("${", i)) {
            stack.push(new Frame(Kind.PARAMETER, null));
            copy(2);
        } else {
            copy(1);
        }
    }

    private void code(Frame f, char c) {
        switch (c) {
            case '\\' -> {
                endsWithEscape = i + 1 == text.length();
                if (!text.startsWith("\\\n", i)) {
                    f.wordChar('x');
                }
                copy(2);
            }
            case '\'' -> push(f, Kind.SINGLE, 1);
            case '"' -> push(f, Kind.DOUBLE, 1);
            case '`' -> push(f, Kind.BACKTICK, 1);
            case '$' -> {
                if (text.startsWith("$((", i)) {
                    push(f, Kind.ARITHMETIC, 3);
                } else if (text.startsWith("$(", i)) {
                    push(f, Kind.SUBSTITUTION, 2);
                } else if (text.startsWith("${", i)) {
                    push(f, Kind.PARAMETER, 2);
                } else {
                    f.wordChar(c);
                    copy(1);
                }
            }
            case '#' -> {
                if (f.inWord) {
                    f.wordChar(c);
                } else {
                    stack.push(new Frame(Kind.COMMENT, null));
                }
                copy(1);
            }
            case ' ', '\t', '\r' -> {
                f.endWord();
                copy(1);
            }
            case '\n' -> {
                f.endWord();
                f.needCommand = true;
                copy(1);
                startHeredoc();
            }
            case ';', '&', '|' -> {
                f.endWord();
                f.needCommand = true;
                copy(1);
            }
            case '(' -> {
                f.endWord();
                f.depth++;
                f.needCommand = true;
                copy(1);
            }
            case ')' -> {
                f.endWord();
                if (f.depth > 0) {
                    f.depth--;
                    f.needCommand = false;
                } else if (f.kind == Kind.SUBSTITUTION) {
                    stack.pop();
                    Frame outer = stack.peek();
                    if (outer.code()) {
                        outer.wordChar('x');
                    }
                }
                copy(1);
            }
            case '<', '>' -> redirection(f, c);
            default -> {
                f.wordChar(c);
                copy(1);
            }
        }
    }

    private void push(Frame f, Kind kind, int length) {
        f.wordChar('x');
        stack.push(new Frame(kind, null));
        copy(length);
    }

    private void redirection(Frame f, char c) {
        if (f.inWord && f.word.chars().allMatch(Character::isDigit)) {
            f.word.setLength(0); // a descriptor number, as in 2>&1
            f.inWord = false;
        } else {
            f.endWord();
        }
        if (c == '<' && text.startsWith("<<", i)) {
            copy(2);
            boolean strip = i < text.length() && text.charAt(i) == '-';
            if (strip) {
                copy(1);
            }
            while (i < text.length() && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
                copy(1);
            }
            StringBuilder delimiter = new StringBuilder();
            boolean literal = false;
            char quote = 0;
            while (i < text.length()) {
                char d = text.charAt(i);
                if (quote == 0 && (" \t\n;&|<>()".indexOf(d) >= 0)) {
                    break;
                }
                if (quote != 0 && d == quote) {
                    quote = 0;
                } else if (quote == 0 && (d == '\'' || d == '"')) {
                    quote = d;
                    literal = true;
                } else if (quote == 0 && d == '\\') {
                    literal = true;
                } else {
                    delimiter.append(d);
                }
                copy(1);
            }
            pending.add(new Heredoc(delimiter.toString(), literal, strip));
            return;
        }
        while (i < text.length() && "<>&|".indexOf(text.charAt(i)) >= 0) {
            copy(1);
        }
        f.redirectNext = true;
    }

    private void copy(int length) {
        int end = Math.min(text.length(), i + length);
        out.append(text, i, end);
        i = end;
    }

    /** A printed value, quoted for the context it stands in. */
    private String quote(Frame f, Outputs.Printed p) throws RenderException {
        boolean inHeredoc = stack.stream().anyMatch(s -> s.heredoc != null);
        if (inHeredoc && p.words().stream().anyMatch(w -> w.indexOf('\n') >= 0)) {
            throw new RenderException(where(p) + "a value with a line break cannot stand in a here-document"
                    + " (its lines could end it); use \"$OVERSEER_VAR_<name>\" there");
        }
        return switch (f.kind) {
            case CODE, SUBSTITUTION ->
                String.join(" ", p.words().stream().map(ShellWords::quote).toList());
            case SINGLE -> p.joined().replace("'", "'\\''");
            case DOUBLE -> {
                doubleQuoted.add(new Placement(p.line(), p.column()));
                yield escape(p.joined(), "\\$`\"");
            }
            case HEREDOC -> escape(p.joined(), "\\$`");
            case LITERAL_HEREDOC -> p.joined();
            case COMMENT -> p.joined().replace('\n', ' ');
            case BACKTICK ->
                throw new RenderException(where(p) + "{{ }} inside `…` cannot be quoted safely; write $( … ) instead");
            case PARAMETER ->
                throw new RenderException(
                        where(p) + "{{ }} inside ${…} cannot be quoted safely;" + " put the value in a variable first");
            case ARITHMETIC ->
                throw new RenderException(where(p) + "{{ }} inside $((…)) cannot be quoted safely;"
                        + " use \"$OVERSEER_VAR_<name>\" there");
        };
    }

    private static String where(Outputs.Printed p) {
        return "line " + p.line() + ", column " + p.column() + ": ";
    }

    private static String escape(String value, String special) {
        StringBuilder b = new StringBuilder(value.length() + 8);
        for (int k = 0; k < value.length(); k++) {
            char c = value.charAt(k);
            if (special.indexOf(c) >= 0) {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }
}
