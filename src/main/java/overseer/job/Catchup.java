package overseer.job;

/** Which schedule fires missed while the server was down are run on start. */
public enum Catchup {
    NONE,
    LAST,
    ALL
}
