package overseer.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import java.util.Locale;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The server's log on stderr, one line per event, in the format and at the level the operator
 * chose. Logback is configured here in code rather than from an XML file: the choices come from
 * the command line, and the defaults hold before it is parsed ({@link DefaultLogging}).
 */
public final class Logging {
    /** How a line looks. */
    public enum Format {
        /** {@code 2026-11-25T10:00:00.000Z INFO Engine - message}, for people. */
        TEXT,
        /** One JSON object per line, written by logback's own {@link JsonEncoder}. */
        JSON;

        static Format parse(String value) {
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--log-format must be text or json, not '" + value + "'");
            }
        }
    }

    /**
     * A value in a message (a file name from the repository, a request path) could hold a line
     * break and forge a line of its own; control characters other than tab become {@code ?}. JSON
     * needs no such care: its encoder escapes them.
     */
    private static final String TEXT_PATTERN =
            "%d{yyyy-MM-dd'T'HH:mm:ss.SSSX} %level %logger{0} - %replace(%msg){'[\\p{Cntrl}&&[^\\t]]', '?'}%n";

    /** Libraries whose info lines are noise for an operator; they log at this level or above. */
    private static final Map<String, Level> LIBRARIES = Map.of(
            "org.eclipse.jgit", Level.ERROR,
            "org.apache.sshd", Level.WARN,
            "io.undertow", Level.WARN,
            "org.xnio", Level.WARN,
            "org.jboss", Level.WARN,
            "com.hubspot.jinjava", Level.WARN,
            "com.cronutils", Level.WARN,
            // Its warnings of a broken connection carry a stack trace; the store says the same in one line.
            "com.zaxxer.hikari", Level.ERROR);

    private Logging() {}

    /** Applies {@code format} and {@code level}; {@code level} is one of error, warn, info, debug, trace. */
    public static void configure(String format, String level) {
        Level parsed = Level.toLevel(level.trim(), null);
        if (parsed == null || !level.trim().equalsIgnoreCase(parsed.levelStr)) {
            throw new IllegalArgumentException(
                    "--log-level must be error, warn, info, debug or trace, not '" + level + "'");
        }
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            configure(context, Format.parse(format), parsed);
        }
    }

    static void configure(LoggerContext context, Format format, Level level) {
        context.reset();
        Encoder<ILoggingEvent> encoder = switch (format) {
            case TEXT -> {
                var text = new PatternLayoutEncoder();
                text.setPattern(TEXT_PATTERN);
                yield text;
            }
            case JSON -> json();
        };
        encoder.setContext(context);
        encoder.start();
        var appender = new ConsoleAppender<ILoggingEvent>();
        appender.setContext(context);
        appender.setName("stderr");
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(level);
        root.addAppender(appender);
        LIBRARIES.forEach(
                (name, least) -> context.getLogger(name).setLevel(least.isGreaterOrEqual(level) ? least : level));
    }

    /** Time, level, logger, message, the job and execution when known (MDC), and a throwable if any. */
    private static JsonEncoder json() {
        var json = new JsonEncoder();
        json.setWithSequenceNumber(false);
        json.setWithNanoseconds(false);
        json.setWithThreadName(false);
        json.setWithContext(false);
        json.setWithMarkers(false);
        json.setWithKVPList(false);
        json.setWithArguments(false);
        json.setWithMessage(false);
        json.setWithFormattedMessage(true);
        return json;
    }
}
