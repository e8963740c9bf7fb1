package overseer.api;

/** What a bearer token may do; each role includes the ones before it. */
public enum Role {
    READ,
    TRIGGER,
    ADMIN;

    boolean allows(Role required) {
        return compareTo(required) >= 0;
    }
}
