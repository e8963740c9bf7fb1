package overseer.job;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The types a job var can declare. {@link #check} judges a value given as plain data (String,
 * integer, Double, Boolean, List, Map or null, as JSON or YAML produce it).
 */
public enum VarType {
    NULL,
    BOOL,
    INT,
    FLOAT,
    BINARY,
    TIMESTAMP,
    PAIRS,
    OMAP,
    SET,
    STR,
    SEQ,
    MAP,
    ENUM;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<VarType> byId(String id) {
        return Arrays.stream(values()).filter(t -> t.id().equals(id)).findFirst();
    }

    public static List<String> ids() {
        return Arrays.stream(values()).map(VarType::id).toList();
    }

    /** Why {@code value} is not of this type, or empty when it is. */
    public Optional<String> check(Object value, List<Object> enumValues) {
        boolean ok = switch (this) {
            case NULL -> value == null;
            case BOOL -> value instanceof Boolean;
            case INT -> value instanceof BigInteger || value instanceof Integer || value instanceof Long;
            case FLOAT -> value instanceof Number;
            case BINARY -> value instanceof String s && isBase64(s);
            case TIMESTAMP -> value instanceof String s && isTimestamp(s);
            case PAIRS -> isPairs(value, false);
            case OMAP -> isPairs(value, true);
            case SET -> value instanceof List<?> l && new HashSet<>(l).size() == l.size();
            case STR -> value instanceof String;
            case SEQ -> value instanceof List<?>;
            case MAP -> value instanceof Map<?, ?>;
            case ENUM -> enumValues.stream().anyMatch(v -> sameValue(v, value));
        };
        if (ok) {
            return Optional.empty();
        }
        return Optional.of(
                switch (this) {
                    case NULL -> "expected null";
                    case BOOL -> "expected true or false";
                    case INT -> "expected an integer";
                    case FLOAT -> "expected a number";
                    case BINARY -> "expected base64-encoded data";
                    case TIMESTAMP -> "expected an ISO-8601 date-time with offset, like 2026-01-31T12:00:00Z";
                    case PAIRS -> "expected a list of single-key mappings";
                    case OMAP -> "expected a list of single-key mappings with unique keys";
                    case SET -> "expected a list without repeated items";
                    case STR -> "expected a string";
                    case SEQ -> "expected a list";
                    case MAP -> "expected a mapping";
                    case ENUM -> "expected one of " + enumValues;
                });
    }

    private static boolean sameValue(Object declared, Object given) {
        if (declared instanceof Number a && given instanceof Number b) {
            try {
                return new BigDecimal(a.toString()).compareTo(new BigDecimal(b.toString())) == 0;
            } catch (NumberFormatException infiniteOrNaN) {
                return a.toString().equals(b.toString());
            }
        }
        return declared == null ? given == null : declared.equals(given);
    }

    private static boolean isBase64(String s) {
        try {
            Base64.getDecoder().decode(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean isTimestamp(String s) {
        try {
            OffsetDateTime.parse(s);
            return true;
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    private static boolean isPairs(Object value, boolean uniqueKeys) {
        if (!(value instanceof List<?> list)) {
            return false;
        }
        Set<Object> keys = new HashSet<>();
        for (Object item : list) {
            if (!(item instanceof Map<?, ?> m) || m.size() != 1) {
                return false;
            }
            if (uniqueKeys && !keys.add(m.keySet().iterator().next())) {
                return false;
            }
        }
        return true;
    }
}
