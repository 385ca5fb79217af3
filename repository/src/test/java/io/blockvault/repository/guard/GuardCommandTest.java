package io.blockvault.repository.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.repository.RepositoryCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The guard's settings as options: the same keys, defaults and errors as its file, one parser. */
class GuardCommandTest {

    @TempDir
    Path dir;

    static GuardCommand parse(String... args) {
        CommandLine cl = new CommandLine(new RepositoryCommand());
        CommandLine.ParseResult r = cl.parseArgs(args);
        return (GuardCommand) r.subcommand().commandSpec().userObject();
    }

    @Test
    void optionsGiveWhatTheSameFileGives() throws Exception {
        Path file = dir.resolve("guard.properties");
        Files.writeString(file, "repository=/srv/bv\nlockDays=14\nintervalMillis=1000\ngcGraceSeconds=7200\n");
        GuardConfig fromFile = GuardConfig.load(file, false);
        Optional<GuardConfig> fromOptions = parse("guard", "--repository=/srv/bv", "--lock-days=14",
                "--interval-millis", "1000", "--gc-grace-seconds=7200").fromOptions();
        assertThat(fromOptions).contains(fromFile);
        assertThat(fromFile.gcIntervalSeconds()).isEqualTo(3600); // a default, the same on both paths
        for (String key : GuardConfig.KEYS) {
            assertThat(new CommandLine(new GuardCommand()).getCommandSpec().findOption(GuardConfig.option(key)))
                    .as("option for %s", key).matches(o -> GuardConfig.FILE_ONLY_KEYS.contains(key) ? o == null
                            : o != null);
        }
    }

    /** Whoever writes the guard's command line (in a pod: the Kubernetes API) cannot release locks. */
    @Test
    void theCommandLineCannotAdvanceTheClockNorWidenItsBounds() {
        assertThatThrownBy(() -> parse("guard", "--repository=/r", "--trusted-clock-advance-seconds=999999"))
                .hasMessageContaining("--trusted-clock-advance-seconds");
        assertThatThrownBy(() -> parse("guard", "--repository=/r", "--clock-max-step-seconds=315360000").fromOptions())
                .hasMessage("--clock-max-step-seconds must be at most 86400 (one day), got 315360000");
        assertThatThrownBy(() -> parse("guard", "--repository=/r", "--reboot-credit-max-seconds=90000").fromOptions())
                .hasMessage("--reboot-credit-max-seconds must be at most 86400 (one day), got 90000");
        assertThatThrownBy(() -> parse("guard", "--repository=/r", "--clock-max-step-seconds=10").fromOptions())
                .hasMessage("--clock-max-step-seconds (10) must not be below --clock-jump-threshold-seconds (60)");
    }

    @Test
    void badOptionsNameTheOptionAndTheFix() {
        assertThatThrownBy(() -> parse("guard", "--repository=/r", "--lock-days=0").fromOptions())
                .hasMessage("--lock-days must be at least 1, got 0");
        assertThatThrownBy(() -> parse("guard", "--repository=/r", "--gc-grace-seconds=soon").fromOptions())
                .hasMessage("--gc-grace-seconds must be a non-negative whole number, got 'soon'");
        assertThatThrownBy(() -> parse("guard", "--lock-days=3").fromOptions())
                .hasMessage("--repository must be set to the path of the repository root");
        assertThatThrownBy(() -> parse("guard").fromOptions()).hasMessageContaining("give --config FILE, or --repository");
        assertThatThrownBy(() -> parse("guard", "--config=/etc/g", "--lock-days=3").fromOptions())
                .hasMessageContaining("--config and [--lock-days] cannot be combined");
    }

    @Test
    void aFileStillWorksAndItsErrorsNameItsKeys() throws Exception {
        assertThat(parse("guard", "--config=/etc/guard.properties").fromOptions()).isEmpty();
        Path file = dir.resolve("bad.properties");
        Files.writeString(file, "repository=/srv/bv\nlockDays=0\n");
        assertThatThrownBy(() -> GuardConfig.load(file, false)).hasMessage(file + ": lockDays must be at least 1, got 0");
    }
}
