package overseer.store;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Where the store is: {@code --store} ({@code OVERSEER_STORE}), parsed. */
public sealed interface StoreLocation {
    /** One line, for logs and {@code /config}: never a password. */
    String describe();

    /** The embedded default: one file in the data directory. */
    record Sqlite() implements StoreLocation {
        @Override
        public String describe() {
            return "sqlite";
        }

        Path file(Path data) {
            return data.resolve(SqliteStore.FILE);
        }
    }

    /**
     * A PostgreSQL database; {@code params} are pgjdbc's connection parameters ({@code sslmode},
     * {@code user}, …), passed through. The password is not among them: it comes from the
     * environment or the pgpass file, so that it is in no command line and no URL that is logged.
     */
    record Postgres(String host, int port, String database, Map<String, String> params) implements StoreLocation {
        public Postgres {
            params = Map.copyOf(params);
        }

        @Override
        public String describe() {
            return "postgresql://" + hostPort() + "/" + database;
        }

        String hostPort() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }

        String jdbcUrl() {
            return "jdbc:postgresql://" + hostPort() + "/" + database;
        }
    }

    /**
     * {@code sqlite}, or {@code postgresql://host[:port]/database[?params]}; anything else, or a
     * URL with a password in it, is refused with one line that does not repeat the value.
     */
    static StoreLocation parse(String value) {
        if (value == null || value.isBlank() || value.strip().equals("sqlite")) {
            return new Sqlite();
        }
        String text = value.strip();
        if (!text.toLowerCase(Locale.ROOT).startsWith("postgresql://")) {
            throw new IllegalArgumentException(
                    "--store: expected 'sqlite' or postgresql://host[:port]/database[?params]");
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--store: not a URL: " + e.getReason());
        }
        if (uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("--store: the URL carries a user or password; give the user as"
                    + " ?user=NAME and the password in OVERSEER_STORE_PASSWORD or the pgpass file");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new IllegalArgumentException("--store: the URL names no host (postgresql://host[:port]/database)");
        }
        String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
        if (path.isEmpty() || path.contains("/")) {
            throw new IllegalArgumentException(
                    "--store: the URL names no database (postgresql://host[:port]/database)");
        }
        if (uri.getFragment() != null) {
            throw new IllegalArgumentException("--store: the URL has a fragment ('#'); parameters go after '?'");
        }
        Map<String, String> params = new LinkedHashMap<>();
        if (uri.getRawQuery() != null && !uri.getRawQuery().isEmpty()) {
            for (String pair : uri.getRawQuery().split("&")) {
                int eq = pair.indexOf('=');
                String key = decode(eq < 0 ? pair : pair.substring(0, eq));
                String val = eq < 0 ? "" : decode(pair.substring(eq + 1));
                if (key.isEmpty()) {
                    throw new IllegalArgumentException("--store: a parameter without a name");
                }
                if (key.toLowerCase(Locale.ROOT).contains("password")) {
                    throw new IllegalArgumentException("--store: the URL carries a password; give it in"
                            + " OVERSEER_STORE_PASSWORD or the pgpass file instead");
                }
                params.put(key, val);
            }
        }
        String host = uri.getHost().replaceAll("^\\[|\\]$", "");
        return new Postgres(host, uri.getPort() < 0 ? 5432 : uri.getPort(), decode(path), params);
    }

    private static String decode(String text) {
        try {
            return java.net.URLDecoder.decode(text, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--store: a bad %-escape in the URL");
        }
    }
}
