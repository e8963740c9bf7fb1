package overseer.job;

/** The bound on numbers in a job file: one of a million digits would take seconds to read. */
final class Numbers {
    /** Longer than any number a job file has a use for (a long has 19 digits). */
    static final int MAX_LENGTH = 100;

    private Numbers() {}

    static String tooLong(String number) {
        return "a number of " + number.length() + " characters is too long (at most " + MAX_LENGTH + ")";
    }
}
