// The two small programs the local node's images carry (tools/local-node builds them): the pod
// sandbox's pause process and the probe the node's smoke test runs in pods. Standard library only.
module blockvault.local/images/local-node

go 1.22
