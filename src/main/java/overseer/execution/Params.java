package overseer.execution;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import overseer.job.ClosestName;
import overseer.job.VarSpec;
import overseer.job.VarType;

/**
 * Binds trigger input to a job's declared vars: JSON values must have the declared type, form and
 * query strings are coerced to it; defaults fill what is not given. Every offending field is
 * reported, not only the first.
 */
public final class Params {
    private final ObjectMapper json;

    public Params(ObjectMapper json) {
        this.json = json;
    }

    /**
     * Values from a JSON object. As lax as forms (SPEC section 2): a string that spells a value of
     * the var's type is that value ({@code "5"} for an {@code int}), and a number or boolean given
     * for a {@code str} var is its text.
     */
    public Map<String, Object> fromJson(List<VarSpec> vars, Map<String, Object> given) throws InvalidParams {
        List<InvalidParams.FieldError> errors = new ArrayList<>();
        Map<String, Object> typed = new LinkedHashMap<>();
        Map<String, VarSpec> byName = new LinkedHashMap<>();
        vars.forEach(v -> byName.put(v.name(), v));
        given.forEach((name, value) -> {
            VarSpec spec = byName.get(name);
            try {
                typed.put(name, spec == null ? value : loosen(spec, value));
            } catch (IllegalArgumentException e) {
                errors.add(new InvalidParams.FieldError(name, e.getMessage()));
            }
        });
        return bind(vars, typed, errors);
    }

    private Object loosen(VarSpec spec, Object value) {
        return switch (value) {
            case String text
            when spec.type() == VarType.SEQ || spec.type() == VarType.SET ->
                text.strip().startsWith("[") ? parseJson(text) : value;
            case String text when !textual(spec.type()) -> coerce(spec, List.of(text));
            case Number n when spec.type() == VarType.STR -> n.toString();
            case Boolean b when spec.type() == VarType.STR -> b.toString();
            case Number n when spec.type() == VarType.ENUM -> enumValue(spec, n.toString(), value);
            case null, default -> value;
        };
    }

    /** Types whose JSON form is a string anyway. */
    private static boolean textual(VarType type) {
        return type == VarType.STR || type == VarType.BINARY || type == VarType.TIMESTAMP;
    }

    private static Object enumValue(VarSpec spec, String text, Object otherwise) {
        return spec.values().stream()
                .filter(v -> String.valueOf(v).equals(text))
                .findFirst()
                .orElse(otherwise);
    }

    /** Values from a form body or the query string: every value is text, coerced to its var's type. */
    public Map<String, Object> fromStrings(List<VarSpec> vars, Map<String, List<String>> given) throws InvalidParams {
        List<InvalidParams.FieldError> errors = new ArrayList<>();
        Map<String, Object> typed = new LinkedHashMap<>();
        Map<String, VarSpec> byName = new LinkedHashMap<>();
        vars.forEach(v -> byName.put(v.name(), v));
        given.forEach((name, texts) -> {
            VarSpec spec = byName.get(name);
            if (spec == null) {
                typed.put(name, texts);
                return;
            }
            try {
                typed.put(name, coerce(spec, texts));
            } catch (IllegalArgumentException e) {
                errors.add(new InvalidParams.FieldError(name, e.getMessage()));
            }
        });
        return bind(vars, typed, errors);
    }

    private Map<String, Object> bind(
            List<VarSpec> vars, Map<String, Object> given, List<InvalidParams.FieldError> earlier)
            throws InvalidParams {
        List<InvalidParams.FieldError> errors = new ArrayList<>(earlier);
        List<String> names = vars.stream().map(VarSpec::name).toList();
        for (String name : given.keySet()) {
            if (!names.contains(name)) {
                errors.add(new InvalidParams.FieldError(
                        name,
                        "unknown parameter"
                                + ClosestName.to(name, names)
                                        .map(n -> " (did you mean '" + n + "'?)")
                                        .orElse("")));
            }
        }
        Map<String, Object> values = new LinkedHashMap<>();
        for (VarSpec v : vars) {
            if (errors.stream().anyMatch(e -> e.field().equals(v.name()))) {
                continue;
            }
            if (given.containsKey(v.name())) {
                Object value = given.get(v.name());
                Optional<String> wrong = v.type().check(value, v.values()).or(() -> hasNul(value));
                if (wrong.isPresent()) {
                    errors.add(new InvalidParams.FieldError(v.name(), wrong.get()));
                } else {
                    values.put(v.name(), value);
                }
            } else if (v.defaultValue().isPresent()) {
                values.put(v.name(), v.defaultValue().get());
            } else if (v.required()) {
                errors.add(new InvalidParams.FieldError(v.name(), "required parameter is missing"));
            }
        }
        if (!errors.isEmpty()) {
            throw new InvalidParams(errors);
        }
        return values;
    }

    /** A process cannot receive NUL in an argument or the environment, so no value may hold one. */
    private static Optional<String> hasNul(Object value) {
        boolean nul = switch (value) {
            case String s -> s.indexOf('\0') >= 0;
            case List<?> l -> l.stream().anyMatch(i -> hasNul(i).isPresent());
            case Map<?, ?> m ->
                m.entrySet().stream()
                        .anyMatch(e -> hasNul(String.valueOf(e.getKey())).isPresent()
                                || hasNul(e.getValue()).isPresent());
            case null, default -> false;
        };
        return nul ? Optional.of("must not contain the NUL character") : Optional.empty();
    }

    private Object coerce(VarSpec spec, List<String> texts) {
        VarType type = spec.type();
        if (texts.size() > 1 && type != VarType.SEQ && type != VarType.SET) {
            throw new IllegalArgumentException("given " + texts.size() + " times; expected one value");
        }
        String text = texts.getFirst();
        return switch (type) {
            case SEQ, SET -> texts.size() == 1 && text.startsWith("[") ? parseJson(text) : List.copyOf(texts);
            case NULL -> text.isEmpty() || text.equals("null") ? null : text;
            case BOOL ->
                switch (text.toLowerCase(Locale.ROOT)) {
                    case "true", "yes", "on", "1" -> true;
                    case "false", "no", "off", "0" -> false;
                    default -> text;
                };
            case INT -> number(text, true);
            case FLOAT -> number(text, false);
            case MAP, PAIRS, OMAP -> parseJson(text);
            case ENUM -> enumValue(spec, text, text);
            case BINARY, TIMESTAMP, STR -> text;
        };
    }

    private static Object number(String text, boolean integer) {
        try {
            return integer ? new BigInteger(text.strip()) : Double.valueOf(new BigDecimal(text.strip()).doubleValue());
        } catch (NumberFormatException e) {
            return text;
        }
    }

    private Object parseJson(String text) {
        try {
            return json.readValue(text, Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("expected JSON text: " + e.getOriginalMessage());
        }
    }
}
