package io.blockvault.operator.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.Names;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class BackupNamesTest {

    private static final Instant T = Instant.parse("2026-03-01T01:30:00Z");

    @Test
    void namesAreDeterministicAndDistinguishEveryPart() {
        String name = BackupNames.scheduled("nightly", "node-1", "/dev/sda", T);
        assertThat(name).isEqualTo(BackupNames.scheduled("nightly", "node-1", "/dev/sda", T))
                .startsWith("nightly-node-1-").endsWith("-20260301-0130").matches(Names.DNS_SUBDOMAIN);
        assertThat(name).isNotEqualTo(BackupNames.scheduled("nightly", "node-1", "/dev/sdb", T))
                .isNotEqualTo(BackupNames.scheduled("nightly", "node-2", "/dev/sda", T))
                .isNotEqualTo(BackupNames.scheduled("nightly", "node-1", "/dev/sda", T.plusSeconds(60)));
    }

    @Test
    void longNamesAreShortenedToValidDistinctNames() {
        String longNode = "n".repeat(200) + ".example.com";
        String a = BackupNames.scheduled("p".repeat(100), longNode, "/dev/sda", T);
        String b = BackupNames.scheduled("p".repeat(100), longNode + "x", "/dev/sda", T);
        assertThat(a).hasSizeLessThanOrEqualTo(253).matches(Names.DNS_SUBDOMAIN).isNotEqualTo(b);
        assertThat(b).hasSizeLessThanOrEqualTo(253).matches(Names.DNS_SUBDOMAIN);
    }
}
