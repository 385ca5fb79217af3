package io.blockvault.agent.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.agent.AgentCommand;
import io.blockvault.agent.modules.ModuleState;
import io.blockvault.agent.snapshot.SnapshotProviders;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * What {@code run} derives from its options and the node: the moduleState its Backups report, and the
 * Tuning that {@code call()} hands to the {@link EngineBackupRunner} (which passes it to every
 * backup's settings), with the bandwidth limit the operator derives from the policy's
 * {@code bandwidthLimitMiBps}.
 */
class RunCommandTest {

    /** {@code run} with the options it cannot do without, then {@code options}. */
    static RunCommand parse(String... options) {
        CommandLine agent = new CommandLine(new AgentCommand());
        List<String> args = new ArrayList<>(List.of("run", "--repository-name=main",
                "--repository=repo.example.org:6162", "--ca-file=/etc/ca.crt", "--key-dir=/etc/blockvault/keys",
                "--token-file=/run/token"));
        args.addAll(List.of(options));
        agent.parseArgs(args.toArray(String[]::new));
        return agent.getSubcommands().get("run").getCommand();
    }

    @Test
    void theBandwidthLimitReachesTheRunnersTuning() {
        RunCommand run = parse("--bandwidth-limit-mibps=4", "--diff-storage=/tmp/diff",
                "--diff-limit-mib=128", "--workers=3", "--uploads=2", "--chunk-size-mib=2");
        EngineBackupRunner.Tuning t = run.tuning();
        assertThat(t.bandwidthLimitBytesPerSecond()).isEqualTo(4L << 20);
        assertThat(t.diffStorage()).isEqualTo(Path.of("/tmp/diff"));
        assertThat(t.diffLimitBytes()).isEqualTo(128L << 20);
        assertThat(t.workers()).isEqualTo(3);
        assertThat(t.uploads()).isEqualTo(2);
        assertThat(t.chunkSizeBytes()).isEqualTo(2 << 20);
    }

    @Test
    void withoutTheOptionUploadsAreUnlimited() {
        assertThat(parse().tuning().bandwidthLimitBytesPerSecond()).isZero();
    }

    /** The init container's verdict wins; without it, what this host has loaded now. */
    @Test
    void theModuleStateIsTheVerdictsReasonElseWhatIsLoaded() {
        assertThat(RunCommand.moduleState(Optional.of(new ModuleState(ModuleState.Reason.SecureBootKeyMissing,
                "rejected")))).isEqualTo("SecureBootKeyMissing");
        String now = RunCommand.moduleState(Optional.empty());
        if (!SnapshotProviders.moduleLoaded()) {
            assertThat(now).isEqualTo("NotLoaded");
        } else {
            assertThat(now).isIn("BlksnapLoaded", "VeeamBlksnapLoaded");
        }
    }

    @Test
    void aNegativeLimitIsRefusedNamingTheOption() {
        RunCommand run = parse("--snapshot=nosnap", "--bandwidth-limit-mibps=-1");
        CommandLine cmd = new CommandLine(new AgentCommand());
        assertThatThrownBy(() -> run.engine.provider(cmd)).isInstanceOf(CommandLine.ParameterException.class)
                .hasMessageContaining("--bandwidth-limit-mibps must be >= 0");
    }

    /** One agent serves every repository its node's policies name: one group of options each. */
    @Test
    void everyRepositoryIsOneGroupOfOptions() {
        RunCommand run = parse("--repository-name=offsite", "--repository=10.0.0.9:6162",
                "--ca-file=/etc/offsite/ca.crt", "--key-dir=/etc/offsite/keys", "--server-name=offsite.example");
        assertThat(run.repositoryOptions.targets).extracting(t -> t.name + "@" + t.endpoint + "/" + t.serverName)
                .containsExactly("main@repo.example.org:6162/null", "offsite@10.0.0.9:6162/offsite.example");
    }

    @Test
    void aRepositoryWithoutItsKeysIsRefusedNamingTheOption() {
        assertThatThrownBy(() -> parse("--repository-name=offsite", "--repository=10.0.0.9:6162",
                "--ca-file=/etc/offsite/ca.crt")).isInstanceOf(CommandLine.ParameterException.class)
                .hasMessageContaining("--key-dir");
    }

    @Test
    void aRepositoryGivenTwiceIsRefused(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve("token"), "t");
        CommandLine agent = new CommandLine(new AgentCommand());
        String[] group = {"--repository-name=main", "--repository=repo:6162", "--ca-file=/ca.crt", "--key-dir=/keys"};
        List<String> args = new ArrayList<>(List.of("run", "--token-file=" + dir.resolve("token")));
        args.addAll(List.of(group));
        args.addAll(List.of(group));
        agent.parseArgs(args.toArray(String[]::new));
        RunCommand run = agent.getSubcommands().get("run").getCommand();
        assertThatThrownBy(() -> run.repositoryOptions.resolve(agent)).isInstanceOf(CommandLine.ParameterException.class)
                .hasMessageContaining("--repository-name main is given twice");
    }
}
