package io.blockvault.operator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.operator.config.RepositoryAccess.HostPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RepositoryAccessTest {

    @Test
    void connectAddressIsHostAndPort() {
        assertThat(HostPort.parse("x", "127.0.0.1:6162")).isEqualTo(new HostPort("127.0.0.1", 6162));
        assertThat(HostPort.parse("x", "[::1]:16162")).isEqualTo(new HostPort("::1", 16162));
        assertThat(new HostPort("::1", 16162)).hasToString("[::1]:16162");
        for (String bad : new String[] {"localhost", ":6162", "host:", "host:0", "host:70000", "host:abc"}) {
            assertThatThrownBy(() -> HostPort.parse("blockvault.operator.repository-connect-address", bad))
                    .hasMessageContaining("blockvault.operator.repository-connect-address is '" + bad + "'")
                    .hasMessageContaining("expected host:port");
        }
    }

    @Test
    void intervalsMustBePositive() {
        assertThatThrownBy(() -> new RepositoryAccess(Path.of("/t"), Optional.empty(), Duration.ofSeconds(5),
                Duration.ZERO, Duration.ofMinutes(15))).hasMessageContaining(
                        "blockvault.operator.repository-check-interval must be positive");
    }
}
