package overseer.job;

import java.util.regex.Pattern;

/** A job's name: its file name without extension, used in every URL. */
public record JobName(String value) implements Comparable<JobName> {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    public JobName {
        if (!isValid(value)) {
            throw new IllegalArgumentException("not a valid job name: " + value);
        }
    }

    public static boolean isValid(String value) {
        return VALID.matcher(value).matches();
    }

    @Override
    public int compareTo(JobName other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
