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

    /** Values from a JSON object, typed as given. */
    public Map<String, Object> fromJson(List<VarSpec> vars, Map<String, Object> given) throws InvalidParams {
        return bind(vars, given, List.of());
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
            case ENUM ->
                spec.values().stream()
                        .filter(v -> String.valueOf(v).equals(text))
                        .findFirst()
                        .orElse(text);
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
