package io.blockvault.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds a condition list that keeps {@code lastTransitionTime} when a condition's status did not
 * change, so that re-applying the same state is a no-op for the API server.
 */
public final class Conditions {

    public static final String READY = "Ready";
    public static final String PROGRESSING = "Progressing";
    public static final String DEGRADED = "Degraded";

    private final List<Condition> previous;
    private final Long observedGeneration;
    private final Instant now;
    private final List<Condition> result = new ArrayList<>();

    private Conditions(List<Condition> previous, Long observedGeneration, Instant now) {
        this.previous = previous == null ? List.of() : previous;
        this.observedGeneration = observedGeneration;
        this.now = now;
    }

    public static Conditions after(List<Condition> previous, Long observedGeneration, Instant now) {
        return new Conditions(previous, observedGeneration, now);
    }

    public Conditions set(String type, boolean status, String reason, String message) {
        String statusText = status ? "True" : "False";
        String transition = previous.stream()
                .filter(c -> type.equals(c.getType()) && statusText.equals(c.getStatus()))
                .map(Condition::getLastTransitionTime).filter(Objects::nonNull).findFirst()
                .orElse(now.toString());
        result.add(new ConditionBuilder().withType(type).withStatus(statusText).withReason(reason)
                .withMessage(message).withObservedGeneration(observedGeneration).withLastTransitionTime(transition)
                .build());
        return this;
    }

    /** Carries the previous condition of {@code type} over unchanged (work that did not run this time). */
    public Conditions keep(String type) {
        previous.stream().filter(c -> type.equals(c.getType())).findFirst().ifPresent(result::add);
        return this;
    }

    public List<Condition> build() {
        return List.copyOf(result);
    }

    /** The condition of {@code type} in {@code conditions}, if present and True. */
    public static boolean isTrue(List<Condition> conditions, String type) {
        return conditions != null && conditions.stream()
                .anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** The reason of the condition of {@code type}, or null. */
    public static String reason(List<Condition> conditions, String type) {
        return conditions == null ? null : conditions.stream().filter(c -> type.equals(c.getType()))
                .map(Condition::getReason).findFirst().orElse(null);
    }
}
