# shellcheck shell=bash
# Shared helpers for blockvault's tool scripts: a pinned Go toolchain and Go builds with a private,
# self-contained module/build cache. Source it; it defines functions only (no side effects).
#
#   bv_go_ensure [MIN]      -> sets BV_GO (path of a go binary >= MIN, default BV_GO_MIN), fetching
#                              the oldest pinned toolchain >= MIN from the Go module proxy if the one
#                              on PATH is missing or too old
#   bv_go_env               -> exports GOPATH/GOMODCACHE/GOCACHE under $BV_GO_BUILD_DIR, GOENV=off, ...
#   bv_go_build_tool NAME PKG VERSION [go install args...]
#                           -> builds a Go command at a pinned module version into
#                              $BV_CACHE/bin/NAME-VERSION/NAME (cached; prints the binary path)
#
# Only the Go module proxy is used ($GOPROXY, default https://proxy.golang.org); nothing else.

BV_CACHE="${BV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blockvault}"
BV_GO_BUILD_DIR="${BV_GO_BUILD_DIR:-$BV_CACHE/go-build}"

# Oldest Go accepted from PATH (k8s.io/kubernetes v1.35.x says `go 1.25.0`).
BV_GO_MIN="${BV_GO_MIN:-1.25.0}"
# Toolchains fetched when PATH has no suitable go, oldest first: "<go version> <sha256 of the zip
# golang.org/toolchain/@v/v0.0.1-go<version>.linux-amd64.zip on the Go proxy>" (the sums were
# checked against sum.golang.org with `go mod download golang.org/toolchain@...`).
BV_GO_PINS=(
    "1.25.14 1bb543a7745d4c6e045a1bfdb4c4d5a0b05b71ee8b8ff72c0a351598b26991a4"
    "1.26.11 e1edb778de0aa08c8e827f5a873b35a46afe680fb241482c531725b2355e470d"
)

bv_log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
bv_die() { bv_log "ERROR: $*"; exit 1; }

# bv_version_ge A B: true if dotted version A >= B (e.g. 1.26.8 >= 1.25.0).
bv_version_ge() {
    [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

# Version of a go binary as "1.26.8" (empty if it cannot run). GOTOOLCHAIN=local so that
# `go version` reports the binary itself and never switches toolchains behind our back.
bv_go_version_of() {
    local v
    v="$(GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null)" || return 0
    v="${v#go}"
    printf '%s\n' "${v%%[-+ ]*}"
}

bv_need_curl() {
    command -v curl >/dev/null 2>&1 && return 0
    bv_log "curl missing: installing it with apt-get"
    command -v apt-get >/dev/null 2>&1 || bv_die "curl is missing and apt-get is not available"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq curl >/dev/null; }; then
        bv_die "could not install curl"
    fi
}

bv_need_unzip_tool() {
    # Prefer unzip; python3's zipfile is a fallback that Debian always has with apt/python.
    command -v unzip >/dev/null 2>&1 && return 0
    command -v python3 >/dev/null 2>&1 && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq unzip >/dev/null; }; then
        bv_die "need unzip (or python3) to unpack the Go toolchain"
    fi
}

bv_unzip() { # zip dest
    if command -v unzip >/dev/null 2>&1; then
        unzip -q "$1" -d "$2"
    else
        python3 - "$1" "$2" <<'PY'
import sys, zipfile, os
with zipfile.ZipFile(sys.argv[1]) as z:
    for i in z.infolist():
        z.extract(i, sys.argv[2])
        mode = (i.external_attr >> 16) & 0o777
        if mode:
            os.chmod(os.path.join(sys.argv[2], i.filename), mode)
PY
    fi
}

# bv_go_fetch_pinned GOVERSION SHA256: fetch golang.org/toolchain@v0.0.1-go<GOVERSION>.linux-amd64
# into $BV_CACHE/go/<module version>/ and set BV_GO. The zip's entries are
# "golang.org/toolchain@<module version>/{bin,pkg,src,...}"; GOROOT is that folder.
bv_go_fetch_pinned() {
    local gover="$1" want_sum="$2"
    local arch
    case "$(uname -m)" in
        x86_64) arch=amd64 ;;
        *) bv_die "pinned toolchain only set up for linux-amd64, not $(uname -m)" ;;
    esac
    local modver="v0.0.1-go${gover}.linux-${arch}"
    local root="$BV_CACHE/go/$modver"
    local goroot="$root/golang.org/toolchain@$modver"
    if [ -x "$goroot/bin/go" ] && [ "$(bv_go_version_of "$goroot/bin/go")" = "$gover" ]; then
        BV_GO="$goroot/bin/go"
        return 0
    fi
    bv_need_curl
    bv_need_unzip_tool
    local proxy="${GOPROXY:-https://proxy.golang.org}"
    proxy="${proxy%%[,|]*}"
    case "$proxy" in
        http://* | https://*) ;;
        *) proxy="https://proxy.golang.org" ;;
    esac
    local url="$proxy/golang.org/toolchain/@v/$modver.zip"
    mkdir -p "$BV_CACHE/go"
    local tmp
    tmp="$(mktemp -d "$BV_CACHE/go/.tmp-$modver.XXXXXX")"
    bv_log "fetching Go $gover toolchain: $url"
    curl -fsSL --retry 3 -o "$tmp/go.zip" "$url" || { rm -rf "$tmp"; bv_die "download failed: $url"; }
    local sum
    sum="$(sha256sum "$tmp/go.zip" | cut -d' ' -f1)"
    if [ "$sum" != "$want_sum" ]; then
        rm -rf "$tmp"
        bv_die "sha256 mismatch for $modver.zip: got $sum, want $want_sum"
    fi
    mkdir "$tmp/root"
    bv_unzip "$tmp/go.zip" "$tmp/root"
    rm -f "$tmp/go.zip"
    chmod +x "$tmp/root/golang.org/toolchain@$modver/bin/"* \
        "$tmp/root/golang.org/toolchain@$modver/pkg/tool/"*/* 2>/dev/null || true
    rm -rf "$root"
    mv "$tmp/root" "$root"
    rmdir "$tmp"
    BV_GO="$goroot/bin/go"
    [ "$(bv_go_version_of "$BV_GO")" = "$gover" ] || bv_die "unpacked toolchain does not run: $BV_GO"
}

# bv_go_ensure [MIN]: sets BV_GO to a go >= MIN (default BV_GO_MIN): the current BV_GO or the go on
# PATH if good enough, else the oldest pinned toolchain that is >= MIN.
bv_go_ensure() {
    local min="${1:-$BV_GO_MIN}" v="" cand="" pin
    for cand in "${BV_GO:-}" "$(command -v go 2>/dev/null || true)"; do
        [ -n "$cand" ] || continue
        v="$(bv_go_version_of "$cand")"
        if [ -n "$v" ] && bv_version_ge "$v" "$min"; then
            BV_GO="$cand"
            return 0
        fi
    done
    for pin in "${BV_GO_PINS[@]}"; do
        if bv_version_ge "${pin%% *}" "$min"; then
            bv_log "no go >= $min on PATH${v:+ (found $v)}: using the pinned Go ${pin%% *}"
            bv_go_fetch_pinned "${pin%% *}" "${pin#* }"
            return 0
        fi
    done
    bv_die "need Go >= $min and no pinned toolchain is that new (see BV_GO_PINS)"
}

# Private, reproducible Go environment: ignores the user's go env file and caches.
bv_go_env() {
    export GOENV=off
    export GOTOOLCHAIN=local
    export GOPATH="$BV_GO_BUILD_DIR/gopath"
    export GOMODCACHE="$BV_GO_BUILD_DIR/mod"
    export GOCACHE="$BV_GO_BUILD_DIR/cache"
    # -modcacherw: module cache files stay writable, so `rm -rf` works without `go clean -modcache`.
    export GOFLAGS="-modcacherw -buildvcs=false"
    export GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"
    export GOSUMDB="${GOSUMDB:-sum.golang.org}"
    export CGO_ENABLED=0
    export GOOS=linux GOARCH=amd64
    mkdir -p "$GOPATH" "$GOMODCACHE" "$GOCACHE"
}

# bv_go_clean_modcache: drop the private module cache (a few hundred MB after a kube build).
bv_go_clean_modcache() {
    [ -d "$BV_GO_BUILD_DIR/mod" ] || return 0
    chmod -R u+w "$BV_GO_BUILD_DIR/mod" 2>/dev/null || true
    rm -rf "$BV_GO_BUILD_DIR/mod"
}

# bv_go_build_tool NAME PKG VERSION [go build args...]
#   PKG@VERSION is built with `go install`-style module resolution (the module's own go.mod and
#   go.sum, verified against GOSUMDB), into $BV_CACHE/bin/NAME-VERSION/NAME. Fails for modules with
#   replace directives (use a wrapper module then, as tools/provision-control-plane does).
#   Uses a go >= BV_TOOL_GO_MIN (default BV_GO_MIN; set it to the `go` line of the module's go.mod,
#   e.g. helm v3.21+ says go 1.26.0). Prints the binary's path on stdout. Example:
#     helm="$(BV_TOOL_GO_MIN=1.26.0 bv_go_build_tool helm helm.sh/helm/v3/cmd/helm v3.22.0 \
#             -ldflags '-s -w -X helm.sh/helm/v3/internal/version.version=v3.22.0')"
bv_go_build_tool() {
    local name="$1" pkg="$2" version="$3"
    shift 3
    bv_go_cached_binary "$name" "$version" _bv_go_install "$pkg@$version" "$@"
}

# _bv_go_install OUT PKG@VERSION [args]: `go install` into a scratch GOBIN, then move to OUT.
_bv_go_install() {
    local out="$1" pkgver="$2" gobin
    shift 2
    gobin="$(dirname "$out")/.gobin"
    bv_log "building $pkgver"
    GOBIN="$gobin" "$BV_GO" install -trimpath "$@" "$pkgver"
    mv "$gobin/$(basename "${pkgver%@*}")" "$out"
    rmdir "$gobin"
}

# bv_go_build_in_module NAME MODULE_DIR PKG VERSION [go build args...]
#   Builds PKG inside a committed wrapper module (its go.mod requires the tool's module at VERSION,
#   its go.sum pins everything) into $BV_CACHE/bin/NAME-VERSION/NAME. For tools `go install
#   pkg@version` cannot fetch, e.g. when the proxy refuses the module's version list, which
#   `go install` reads to look for a deprecation notice. Prints the binary's path on stdout.
bv_go_build_in_module() {
    local name="$1" moddir="$2" pkg="$3" version="$4"
    shift 4
    # Checked also when the binary is cached: the committed module must be what it builds.
    grep -qw "$pkg $version" "$moddir/go.sum" 2>/dev/null && [ -f "$moddir/go.mod" ] \
        || bv_die "$moddir/go.mod and go.sum must pin $pkg $version (both committed)"
    bv_go_cached_binary "$name" "$version" _bv_go_build_in "$moddir" "$pkg" "$@"
}

# _bv_go_build_in OUT MODULE_DIR PKG [args]: `go build` inside a wrapper module, read-only go.mod.
_bv_go_build_in() {
    local out="$1" moddir="$2" pkg="$3"
    shift 3
    bv_log "building $pkg in $moddir"
    (cd "$moddir" && GOFLAGS="$GOFLAGS -mod=readonly" "$BV_GO" build -trimpath -o "$out" "$@" "$pkg")
}

# bv_go_cached_binary NAME VERSION BUILD_FUNCTION [args]
#   The cache both builders share: $BV_CACHE/bin/NAME-VERSION/NAME, built at most once. Runs
#   BUILD_FUNCTION OUT [args] in the private Go environment with a go >= BV_TOOL_GO_MIN (default
#   BV_GO_MIN), into a scratch directory moved into place only when the binary exists, so an
#   interrupted build never leaves a half cache. Prints the binary's path on stdout.
bv_go_cached_binary() {
    local name="$1" version="$2"
    shift 2
    local dir="$BV_CACHE/bin/$name-$version"
    if [ -x "$dir/$name" ]; then
        printf '%s\n' "$dir/$name"
        return 0
    fi
    bv_go_ensure "${BV_TOOL_GO_MIN:-$BV_GO_MIN}"
    (
        bv_go_env
        mkdir -p "$BV_CACHE/bin"
        tmp="$(mktemp -d "$BV_CACHE/bin/.tmp-$name-$version.XXXXXX")"
        trap 'rm -rf "$tmp"' EXIT
        mkdir "$tmp/out"
        local build="$1"
        shift
        "$build" "$tmp/out/$name" "$@" >&2 || bv_die "building $name $version failed"
        [ -x "$tmp/out/$name" ] || bv_die "building $name $version produced no binary"
        rm -rf "$dir"
        mv "$tmp/out" "$dir"
    ) || return 1
    printf '%s\n' "$dir/$name"
}
