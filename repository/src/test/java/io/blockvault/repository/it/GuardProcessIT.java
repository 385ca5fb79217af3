package io.blockvault.repository.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The guard and the transport refuse privileges they must not have; the guard has no network. */
class GuardProcessIT {

    static Path work;
    static Path jar;

    @BeforeAll
    static void setUp() throws Exception {
        Host.requireRoot();
        Host.ensureTransportUser();
        work = Files.createTempDirectory("blockvault-guard-it");
        jar = Host.runnerJar(work);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        Host.deleteTree(work);
    }

    @Test
    void socketsFailInsideTheGuardInEveryThread() throws Exception {
        Host.Result r = Host.run(Host.asGuard(jar, "--config", "/nonexistent", "--probe-network"));
        assertThat(r.output()).contains("network denied: socket(2) fails");
        assertThat(r.output()).contains("network probe from a new thread: REFUSED");
        assertThat(r.exit()).isZero();
    }

    @Test
    void theGuardRefusesCapabilitiesItDoesNotNeed() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Host.java(), "-jar", jar.toString(), "guard", "--config", "/x"));
        Host.Result r = Host.run(cmd);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.output()).contains("capabilities it does not need").contains("sys_admin");
        Host.Result asUser = Host.run(Host.asTransportUser(cmd.toArray(String[]::new)));
        assertThat(asUser.exit()).isEqualTo(1);
        assertThat(asUser.output()).contains("must run as root");
        Host.Result noImmutable = Host.run(List.of("setpriv", "--inh-caps=-all",
                "--bounding-set=-all,+dac_override", "--", Host.java(), "-jar", jar.toString(), "guard",
                "--config", "/x"));
        assertThat(noImmutable.exit()).isEqualTo(1);
        assertThat(noImmutable.output()).contains("lacks CAP_LINUX_IMMUTABLE");
        Host.Result noOverride = Host.run(List.of("setpriv", "--inh-caps=-all", "--bounding-set=-all,+linux_immutable",
                "--", Host.java(), "-jar", jar.toString(), "guard", "--config", "/x"));
        assertThat(noOverride.exit()).isEqualTo(1);
        assertThat(noOverride.output()).contains("lacks CAP_DAC_OVERRIDE");
        // DAC_READ_SEARCH is covered by DAC_OVERRIDE, so the old, wider set is refused too
        Host.Result readSearch = Host.run(List.of("setpriv", "--inh-caps=-all",
                "--bounding-set=-all,+linux_immutable,+dac_override,+dac_read_search", "--", Host.java(), "-jar",
                jar.toString(), "guard", "--config", "/x"));
        assertThat(readSearch.exit()).isEqualTo(1);
        assertThat(readSearch.output()).contains("capabilities it does not need: [dac_read_search]");
    }

    @Test
    void theTransportRefusesRootAndCapabilities() throws Exception {
        Host.Result r = Host.run(List.of(Host.java(), "-jar", jar.toString(), "serve", "--root", "/tmp/x",
                "--tls-cert", "/x", "--tls-key", "/x", "--token-file", "/x"));
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.output()).contains("refuses to run as root");
    }
}
