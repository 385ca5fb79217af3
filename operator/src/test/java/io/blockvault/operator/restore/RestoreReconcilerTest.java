package io.blockvault.operator.restore;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestoreReconcilerTest {

    private static final Instant T = Instant.parse("2026-03-01T01:00:00Z");

    @Test
    void theReconcilerComparesOnlyItsOwnConditionsSoTheAgentsDoNotMakeItApplyAgain() {
        List<Condition> stored = Conditions.after(null, 1L, T)
                .set(Conditions.DEGRADED, false, "Validated", "fine").build();
        Condition agents = new ConditionBuilder().withType(RestoreReconciler.AGENT_CONDITION).withStatus("True")
                .withReason("Running").withMessage("writing").withLastTransitionTime(T.toString()).build();
        List<Condition> withAgents = List.of(agents, stored.get(0));
        List<Condition> desired = Conditions.after(withAgents, 1L, T.plusSeconds(60))
                .set(Conditions.DEGRADED, false, "Validated", "fine").build();

        assertThat(desired).isNotEqualTo(withAgents).isEqualTo(RestoreReconciler.own(withAgents));
        assertThat(RestoreReconciler.own(null)).isEmpty();
        // A change of its own condition is still seen.
        assertThat(Conditions.after(withAgents, 1L, T).set(Conditions.DEGRADED, true, "NodeNotFound", "gone").build())
                .isNotEqualTo(RestoreReconciler.own(withAgents));
    }
}
