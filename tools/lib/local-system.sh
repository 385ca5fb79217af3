# shellcheck shell=bash
# The whole system on one machine, as the cluster runs it: a local control plane (no kubelet), the
# operator's runner jar, a managed BackupRepository whose pod is stood in for by the transport and
# guard as local processes (same users and capabilities, the TLS Secret the operator issued), and
# one node agent per Node object, each with its own repository token.
#
# Sourced by bench/e2e only; the main job and the end-to-end tests run the parts as pods
# (tools/lib/local-release.sh).
# Everything lives under $BLOCKVAULT_RUN_DIR; bv_stop removes it all, loop devices included.

bv_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export BLOCKVAULT_RUN_DIR=${BLOCKVAULT_RUN_DIR:-/tmp/blockvault-local}
export BLOCKVAULT_REPOSITORY_PORT=${BLOCKVAULT_REPOSITORY_PORT:-6162}
bv_run=$BLOCKVAULT_RUN_DIR
bv_ns=blockvault-system
bv_repository=${BV_REPOSITORY:-main}
bv_operator_port=${BV_OPERATOR_PORT:-18080}
bv_server_name=$bv_repository-repository.$bv_ns.svc
# shellcheck source=loop-devices.sh
. "$bv_root/tools/lib/loop-devices.sh"

bv_log() { printf '%s\n' "$*" >&2; }
bv_die() {
    bv_log "local-system: $*"
    exit 1
}

bv_kubectl() { "$bv_root/tools/local-cluster" kubectl "$@"; }

bv_jar() { ls "$bv_root/$1/target/"blockvault-*-runner.jar; }

# Starts a process in the background, its pid and log under $bv_run/procs.
bv_spawn() {
    local name=$1
    shift
    mkdir -p "$bv_run/procs"
    "$@" >"$bv_run/procs/$name.log" 2>&1 &
    echo $! >"$bv_run/procs/$name.pid"
}

bv_pid() { cat "$bv_run/procs/$1.pid" 2>/dev/null; }

bv_alive() {
    local pid
    pid=$(bv_pid "$1") && kill -0 "$pid" 2>/dev/null
}

# Stops a process started by bv_spawn: SIGTERM, then SIGKILL after $2 seconds (default 20).
bv_kill() {
    local name=$1 wait=${2:-20} pid
    pid=$(bv_pid "$name") || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((wait * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$bv_run/procs/$name.pid"
}

# Waits until "$@" succeeds, at most $1 seconds; the message names what did not happen.
bv_await() {
    local timeout=$1 what=$2
    shift 2
    local deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || bv_die "$what did not happen within $timeout s"
        sleep 0.5
    done
}

bv_start_control_plane() {
    "$bv_root/tools/local-cluster" start >/dev/null
    bv_kubectl create namespace "$bv_ns" >/dev/null
}

# A Node object as a kubelet would register it: Ready, labelled for the example policies.
bv_add_node() {
    local node=$1 now
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    bv_kubectl apply -f - >/dev/null <<NODE
apiVersion: v1
kind: Node
metadata:
  name: $node
  labels:
    kubernetes.io/hostname: $node
    blockvault.io/local: "true"
NODE
    bv_kubectl patch node "$node" --subresource=status --type=merge -p "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"message\":\"local stand-in\",\"lastHeartbeatTime\":\"$now\",\"lastTransitionTime\":\"$now\"}]}}" >/dev/null
}

bv_start_operator() {
    mkdir -p "$bv_run/operator"
    bv_spawn operator env KUBECONFIG="$bv_run/kubeconfig" \
        QUARKUS_KUBERNETES_CLIENT_NAMESPACE="$bv_ns" \
        QUARKUS_HTTP_PORT="$bv_operator_port" \
        BLOCKVAULT_OPERATOR_SCHEDULE_CHECK_INTERVAL=2s \
        BLOCKVAULT_OPERATOR_REPOSITORY_TOKEN_FILE="$bv_run/operator/repository.token" \
        BLOCKVAULT_OPERATOR_REPOSITORY_CONNECT_ADDRESS="127.0.0.1:$BLOCKVAULT_REPOSITORY_PORT" \
        java -Xmx256m -jar "$(bv_jar operator)"
    bv_await 90 "the operator's readiness" curl -fsS "http://127.0.0.1:$bv_operator_port/q/health/ready"
}

# The managed repository: the operator issues its CA, TLS certificate and keys as Secrets; the
# transport and guard run here with exactly those, standing in for the StatefulSet's pod.
bv_start_repository() {
    local immutability_days=${1:-1} nodes=("${@:2}")
    bv_kubectl apply -f - >/dev/null <<REPO
apiVersion: blockvault.io/v1alpha1
kind: BackupRepository
metadata:
  name: $bv_repository
spec:
  mode: Managed
  immutabilityDays: $immutability_days
  managed:
    storageSize: 2Gi
REPO
    local secret
    for secret in tls ca encryption-key; do
        bv_await 60 "Secret $bv_repository-repository-$secret" \
            bv_kubectl -n "$bv_ns" get secret "$bv_repository-repository-$secret"
    done
    local tls=$bv_run/repository-tls
    mkdir -p "$tls"
    bv_secret_to_dir "$bv_repository-repository-tls" "$tls"
    bv_secret_to_dir "$bv_repository-repository-ca" "$bv_run/repository-ca"
    bv_secret_to_dir "$bv_repository-repository-encryption-key" "$bv_run/keys"
    BLOCKVAULT_REPOSITORY_TLS_DIR=$tls BLOCKVAULT_NODES="${nodes[*]}" BLOCKVAULT_LOCK_DAYS=$immutability_days \
        "$bv_root/tools/local-repository" start >&2
    cp "$bv_run/repository/operator.token" "$bv_run/operator/repository.token" 2>/dev/null || {
        mkdir -p "$bv_run/operator"
        cp "$bv_run/repository/operator.token" "$bv_run/operator/repository.token"
    }
}

# A Secret's keys as files (0400), the way a Secret volume mounts them.
bv_secret_to_dir() {
    local name=$1 dir=$2 key
    mkdir -p "$dir"
    chmod 0700 "$dir"
    for key in $(bv_kubectl -n "$bv_ns" get secret "$name" -o json | jq -r '.data | keys[]'); do
        bv_kubectl -n "$bv_ns" get secret "$name" -o json | jq -r --arg k "$key" '.data[$k]' | base64 -d \
            >"$dir/$key"
        chmod 0400 "$dir/$key"
    done
}

# One node agent process (the DaemonSet's container) with the node's own repository token.
bv_start_agent() {
    local node=$1
    shift
    bv_spawn "agent-$node" env KUBECONFIG="$bv_run/kubeconfig" \
        java -Xmx384m -jar "$(bv_jar node-agent)" run --node "$node" --repository-name "$bv_repository" \
        --repository "127.0.0.1:$BLOCKVAULT_REPOSITORY_PORT" --server-name "$bv_server_name" \
        --ca-file "$bv_run/repository-ca/ca.crt" --token-file "$bv_run/repository/node-$node.token" \
        --key-dir "$bv_run/keys" --progress-interval-seconds 1 "$@"
    bv_await 60 "agent $node watching" grep -q 'watching' "$bv_run/procs/agent-$node.log"
}

bv_backup_field() { bv_kubectl get backup "$1" -o jsonpath="{$2}"; }

# Waits until a Backup (or Restore: $3) reaches a final phase; prints the phase.
bv_wait_final() {
    local name=$1 timeout=${2:-300} kind=${3:-backup} deadline phase
    deadline=$((SECONDS + timeout))
    while :; do
        phase=$(bv_kubectl get "$kind" "$name" -o jsonpath='{.status.phase}' 2>/dev/null || true)
        case "$phase" in
            Succeeded | Failed) echo "$phase"; return 0 ;;
        esac
        [ "$SECONDS" -lt "$deadline" ] || { echo "Timeout"; return 0; }
        sleep 0.5
    done
}

# Everything down and gone: agents, operator, repository, control plane, loop devices.
bv_stop() {
    local f name dev
    for f in "$bv_run"/procs/agent-*.pid; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .pid)
        bv_kill "$name" 45
    done
    bv_kill operator 20
    "$bv_root/tools/local-repository" stop || true
    bv_detach_loops "$bv_run/devices/loops"
    "$bv_root/tools/local-cluster" stop || true
}
