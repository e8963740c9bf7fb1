package overseer.template;

/** A value that the {@code raw} filter marked to be written into the command as it is, unquoted. */
record Raw(String text) {
    @Override
    public String toString() {
        return text;
    }
}
