package overseer.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class StoreLocationTest {
    @Test
    void sqliteIsTheDefault() {
        assertThat(StoreLocation.parse(null)).isEqualTo(new StoreLocation.Sqlite());
        assertThat(StoreLocation.parse("")).isEqualTo(new StoreLocation.Sqlite());
        assertThat(StoreLocation.parse("sqlite")).isEqualTo(new StoreLocation.Sqlite());
    }

    @Test
    void aPostgresqlUrlGivesHostPortDatabaseAndItsParameters() {
        assertThat(StoreLocation.parse("postgresql://db.example:6543/jobs?sslmode=verify-full&user=overseer"))
                .isEqualTo(new StoreLocation.Postgres(
                        "db.example", 6543, "jobs", Map.of("sslmode", "verify-full", "user", "overseer")));
        StoreLocation.Postgres plain = (StoreLocation.Postgres) StoreLocation.parse("postgresql://[::1]/jobs");
        assertThat(plain.port()).isEqualTo(5432);
        assertThat(plain.describe()).isEqualTo("postgresql://[::1]:5432/jobs");
        assertThat(plain.jdbcUrl()).isEqualTo("jdbc:postgresql://[::1]:5432/jobs");
    }

    @Test
    void aPasswordInTheUrlIsRefusedWithoutRepeatingIt() {
        for (String url : new String[] {
            "postgresql://db/jobs?password=hunter2",
            "postgresql://db/jobs?PASSWORD=hunter2",
            "postgresql://me:hunter2@db/jobs"
        }) {
            assertThatThrownBy(() -> StoreLocation.parse(url))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("--store: ")
                    .hasMessageNotContaining("hunter2");
        }
    }

    @Test
    void aMalformedValueIsOneLineNamingTheOption() {
        for (String url : new String[] {
            "postgresql://",
            "postgresql:///jobs",
            "postgresql://db",
            "postgresql://db/a/b",
            "mysql://db/x",
            "postgresql://db/x#y"
        }) {
            assertThatThrownBy(() -> StoreLocation.parse(url))
                    .as(url)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("--store: ")
                    .hasMessageNotContaining("\n");
        }
    }
}
