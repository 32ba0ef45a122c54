# Shell helpers shared by the benchmarks; source it after setting BENCH_NAME (the log prefix) and ROOT.

log() { echo "$BENCH_NAME: $*" >&2; }
die() { echo "$BENCH_NAME: error: $*" >&2; exit 1; }
# Arithmetic on decimals (EPOCHREALTIME, epoch seconds from the server).
calc() { awk "BEGIN { $1 }"; }
# with_db CONNINFO DBNAME: the conninfo with its dbname replaced.
with_db() { echo "$(sed -E 's/(^|[[:space:]])dbname=[^[:space:]]*//g; s/^[[:space:]]+//' <<<"$1") dbname=$2"; }
# q CONNINFO ARGS…: psql, quiet, unaligned, stopping at the first error.
q() { local conn=$1; shift; psql "$conn" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# Stops the walbridge started in the background (BRIDGE_PID) and removes its configuration file (CONFIG).
BRIDGE_PID=
CONFIG=
stop_bridge() {
    if [ -n "$BRIDGE_PID" ] && kill -0 "$BRIDGE_PID" 2>/dev/null; then
        kill -TERM "$BRIDGE_PID" 2>/dev/null || true
        wait "$BRIDGE_PID" 2>/dev/null || true
    fi
    if [ -n "$CONFIG" ]; then rm -f "$CONFIG"; fi
}

# The walbridge binary: WALBRIDGE_BIN, else a release build in SWIFT_SCRATCH_PATH (default .build).
walbridge_bin() {
    local bin
    if [ -n "${WALBRIDGE_BIN:-}" ]; then
        bin=$WALBRIDGE_BIN
    else
        local scratch=${SWIFT_SCRATCH_PATH:-$ROOT/.build}
        log "building walbridge (release)"
        (cd "$ROOT" && swift build -c release --scratch-path "$scratch" --product walbridge >&2)
        bin="$(cd "$ROOT" && swift build -c release --scratch-path "$scratch" --show-bin-path)/walbridge"
    fi
    [ -x "$bin" ] || die "no walbridge binary at $bin"
    echo "$bin"
}
