package overseer.execution;

import java.util.List;

/** Trigger parameters that do not fit the job's vars: one problem per offending field. */
public final class InvalidParams extends Exception {
    public record FieldError(String field, String message) {}

    private final List<FieldError> errors;

    public InvalidParams(List<FieldError> errors) {
        super(errors.size() + " invalid parameter(s): "
                + String.join(
                        "; ",
                        errors.stream().map(e -> e.field() + ": " + e.message()).toList()));
        this.errors = List.copyOf(errors);
    }

    public List<FieldError> errors() {
        return errors;
    }
}
