/**
 * The custom resources of {@code blockvault.io/v1alpha1}.
 *
 * <p>Spec and status types are records: a reconciler builds a new status rather than mutating
 * one. Validation lives in the annotations so that the API server, not our code, rejects bad
 * objects; the generated CRDs are committed under {@code crds/}.
 */
package io.blockvault.api.v1alpha1;
