# shellcheck shell=bash
# blockvault as a cluster runs it, on this machine: the real node(s) of tools/local-node, the three
# images images/build made (imported into every node's containerd, no registry), a local XFS volume
# for the repository's PersistentVolumeClaim, and `helm install helm/blockvault`. Every part of
# blockvault is a pod: the operator Deployment, the repository StatefulSet the operator creates, the
# agent DaemonSet with its DKMS init container.
#
# Sourced by tools/run-local (the main job). What the user makes (loop devices, values, checksums)
# lives under $bv_run; bv_release_down removes it all, the cluster and what the agents' host paths
# created on this host included.

bv_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bv_run=${BLOCKVAULT_RUN_DIR:-/tmp/blockvault-local}
bv_ns=blockvault-system
bv_release=blockvault
bv_repository=${BV_REPOSITORY:-main}
# Host directories the agent's hostPath volumes create when the node lacks them (DirectoryOrCreate);
# a bare-metal node keeps them, this machine gets back what it had.
bv_agent_host_dirs=(/lib/modules /usr/src /var/lib/dkms /var/lib/blockvault)

bv_log() { printf '%s\n' "$*" >&2; }
# shellcheck source=loop-devices.sh
. "$bv_root/tools/lib/loop-devices.sh"

bv_kubectl() { "$bv_root/tools/local-node" kubectl "$@"; }

bv_helm() {
    KUBECONFIG=${BV_NODE_RUN_DIR:-/tmp/blockvault-node}/kubeconfig "$("$bv_root/tools/provision-go-tool" helm)" "$@"
}

# Waits until "$@" succeeds, at most $1 seconds; the message names what did not happen.
bv_await() {
    local timeout=$1 what=$2
    shift 2
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || { bv_log "$what did not happen within $timeout s"; return 1; }
        sleep 1
    done
}

# The cluster, the images in it, the repository's volume and the release namespace.
bv_release_up() {
    mkdir -p "$bv_run"
    local dir
    : >"$bv_run/host-dirs-created"
    for dir in "${bv_agent_host_dirs[@]}"; do
        [ -e "$dir" ] || echo "$dir" >>"$bv_run/host-dirs-created"
    done
    "$bv_root/tools/local-node" up
    "$bv_root/tools/local-node" import "$bv_root"/target/images/{operator,node-agent,repository}.tar
    "$bv_root/tools/local-node" volume "$bv_repository-repository-data" "${BV_REPOSITORY_SIZE:-2Gi}"
    bv_kubectl create namespace "$bv_ns" >/dev/null
    bv_kubectl label namespace "$bv_ns" pod-security.kubernetes.io/enforce=privileged >/dev/null
}

# helm install of chart $bv_chart (default: this tree's) with $bv_run/values.yaml, waiting for the
# operator to be Ready; extra arguments go to helm.
bv_helm_install() {
    cat >"$bv_run/values.yaml" <<VALUES
operator:
  # The images were imported into the nodes; there is no registry to pull from.
  image: {pullPolicy: Never}
  extraEnv:
    # The schedule is looked at every 2 s instead of every 30 s, so a minute's tick is not missed.
    - {name: BLOCKVAULT_OPERATOR_SCHEDULE_CHECK_INTERVAL, value: 2s}
VALUES
    bv_helm install "$bv_release" "${bv_chart:-$bv_root/helm/blockvault}" --namespace "$bv_ns" -f "$bv_run/values.yaml" \
        --wait --timeout 5m "$@"
}

# What a failure leaves to read: pods, events and the logs of every container that is not fine.
bv_release_diagnose() {
    bv_kubectl get backuprepositories,backups,restores -o json 2>/dev/null | jq -r '.items[] |
        "    \(.kind)/\(.metadata.name): \(.status.phase // "") \([.status.conditions[]? |
        select(.status == "False" or .type == "Degraded") | "\(.type)=\(.status) \(.reason): \(.message)"] | join("; "))
        \(.status.reason // "") \(.status.message // "")"' >&2 || true
    bv_kubectl get nodes,pods -A -o wide 2>&1 | sed 's/^/    /' >&2 || true
    bv_kubectl get events -A --sort-by=.lastTimestamp 2>&1 | tail -25 | sed 's/^/    /' >&2 || true
    local pod container
    for pod in $(bv_kubectl -n "$bv_ns" get pods -o name 2>/dev/null); do
        for container in $(bv_kubectl -n "$bv_ns" get "$pod" \
            -o jsonpath='{.spec.initContainers[*].name} {.spec.containers[*].name}' 2>/dev/null); do
            bv_log "--- $pod $container (last 15 lines)"
            bv_kubectl -n "$bv_ns" logs "$pod" -c "$container" --tail 15 2>&1 | sed 's/^/    /' >&2 || true
        done
    done
}

# Condition $2 of object $1 (kind/name) is True.
bv_condition_true() {
    [ "$(bv_kubectl get "$1" -o jsonpath="{.status.conditions[?(@.type==\"$2\")].status}")" = True ]
}

# The only agent pod of node $1.
bv_agent_pod() {
    bv_kubectl -n "$bv_ns" get pods -l app.kubernetes.io/name=blockvault-agent \
        --field-selector "spec.nodeName=$1" -o jsonpath='{.items[0].metadata.name}'
}

# The agent's command line inside its pod on node $1 (that node's token), with the repository
# options the DaemonSet gives it for repository $bv_repository: bv_agent_exec node-a list --node node-a.
bv_agent_exec() {
    local node=$1 dir=/etc/blockvault/repositories/$bv_repository pod
    shift
    pod=$(bv_agent_pod "$node") || return 1
    bv_kubectl -n "$bv_ns" exec "$pod" -c agent -- java -XX:MaxRAMPercentage=25 -jar /opt/blockvault/agent.jar \
        "$@" --repository "$bv_repository-repository.$bv_ns.svc:6162" \
        --ca-file "$dir/ca/ca.crt" --key-dir "$dir/keys" --token-file /var/run/secrets/blockvault/repository/token
}

# Everything down and gone: the release, the cluster, loop devices, host directories it created.
bv_release_down() {
    if "$bv_root/tools/local-node" status 2>/dev/null; then
        # No pre-delete hook: the whole cluster goes next, workloads included.
        bv_helm uninstall "$bv_release" --namespace "$bv_ns" --no-hooks --wait --timeout 2m >/dev/null 2>&1 || true
    fi
    "$bv_root/tools/local-node" down || true
    bv_detach_loops "$bv_run/devices/loops"
    # Only empty directories go: whatever else was put there since (a package, a restored file) stays.
    local dir
    if [ -f "$bv_run/host-dirs-created" ]; then
        while read -r dir; do
            [ -d "$dir" ] || continue
            find "$dir" -depth -type d -empty -delete
            [ ! -e "$dir" ] || bv_log "kept $dir: it holds files made during the run"
        done <"$bv_run/host-dirs-created"
    fi
    rm -rf "$bv_run"
}
