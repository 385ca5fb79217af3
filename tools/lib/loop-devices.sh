# shellcheck shell=bash
# Loop devices the local scripts make, each remembered in a list file so that teardown detaches
# exactly those. Sourced by tools/lib/local-release.sh, tools/lib/local-system.sh and tools/local-node.

# bv_loop_device NAME SIZE: a loop device backed by $bv_run/devices/NAME.img (direct I/O), listed in
# $bv_run/devices/loops; prints its path.
bv_loop_device() {
    local name=$1 size=$2 dev
    mkdir -p "$bv_run/devices"
    truncate -s "$size" "$bv_run/devices/$name.img"
    dev=$(losetup --find --show --direct-io=on "$bv_run/devices/$name.img")
    echo "$dev" >>"$bv_run/devices/loops"
    echo "$dev"
}

# bv_detach_loops LIST: every device of the list file unmounted and detached; a missing list is none.
bv_detach_loops() {
    local dev
    [ -f "$1" ] || return 0
    while read -r dev; do
        umount "$dev" 2>/dev/null || true
        losetup -d "$dev" 2>/dev/null || true
    done <"$1"
}
