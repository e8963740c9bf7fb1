package overseer.job;

/** A job {@code env} entry whose value is {@code ${variable}}: read from the server's environment at launch. */
public record EnvReference(String key, String variable, Position position) {}
