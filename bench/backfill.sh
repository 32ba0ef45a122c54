#!/usr/bin/env bash
# Backfill: walbridge copying existing rows against the fastest hand-made copy of the same rows.
#
#   scripts/with-clusters.sh bench/backfill.sh
#   WALBRIDGE_PG_FSYNC=on scripts/with-clusters.sh bench/backfill.sh   # for published figures
#
# The source database bfbench holds BENCH_ROWS legacy users (the seed's users table, an address on
# every second one). Two target databases hold the seed's new tables users_v2 and addresses, empty:
#   pipe    filled by hand: `COPY (SELECT id, name, email FROM users) TO STDOUT | COPY users_v2 FROM STDIN`
#           and, at the same time, the same for addresses with the mapping's `when`
#           (address_street IS NOT NULL). No chunking, no resumability, no concurrency control.
#   bridge  filled by `walbridge run` with the seed mapping of users and backfill: auto; the time runs
#           from its start to the commit that marks both targets' backfill done in walbridge.backfill.
# Both start after a CHECKPOINT on both clusters. It prints source rows per second for both, their
# ratio (walbridge / pipe; goal >= 0.8) and walbridge's peak RSS (VmHWM; goal < 200 MB), checks each
# target against the source (row counts and a hash sum, MATCH or MISMATCH) and writes the table to
# bench/out/backfill.txt, walbridge's log to bench/out/backfill-walbridge.err.
#
# Environment: BENCH_ROWS (5000000), BENCH_TIMEOUT (900 s), WALBRIDGE_BIN (else built with
# `swift build -c release --product walbridge`), SWIFT_SCRATCH_PATH (build directory, .build).
# Exit status: 0 when both copies finished and matched, 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROWS=${BENCH_ROWS:-5000000}
TIMEOUT=${BENCH_TIMEOUT:-900}

BENCH_NAME=backfill
. "$ROOT/bench/common.sh"

SRC=$(with_db "$WALBRIDGE_TEST_SOURCE" bfbench)
PIPE=$(with_db "$WALBRIDGE_TEST_TARGET" bfpipe)
BRIDGE=$(with_db "$WALBRIDGE_TEST_TARGET" bfbridge)
cleanup() {
    stop_bridge
    q "$SRC" -c "SELECT pg_drop_replication_slot('walbridge_bfbench') FROM pg_replication_slots WHERE slot_name = 'walbridge_bfbench'" >/dev/null 2>&1 || true
}
trap cleanup EXIT

BIN=$(walbridge_bin)

log "creating source database bfbench with $ROWS users"
q "$WALBRIDGE_TEST_SOURCE" -c "DROP DATABASE IF EXISTS bfbench" -c "CREATE DATABASE bfbench"
legacy_users_sql "$ROWS" | q "$SRC"
for db in bfpipe bfbridge; do
    q "$WALBRIDGE_TEST_TARGET" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    q "$(with_db "$WALBRIDGE_TEST_TARGET" $db)" -c "$NEW_USERS_SCHEMA"
done

checkpoint() { q "$WALBRIDGE_TEST_SOURCE" -c CHECKPOINT; q "$WALBRIDGE_TEST_TARGET" -c CHECKPOINT; }

check() {
    local target=$1 src tgt
    src=$(q "$SRC" -c "SELECT count(*) || ' ' || sum(hashtext(row(id, name, email)::text)) FROM users" \
                   -c "SELECT count(*) || ' ' || sum(hashtext(row(id, address_street, address_city, address_postal_code)::text))
                       FROM users WHERE address_street IS NOT NULL")
    tgt=$(q "$target" -c "SELECT count(*) || ' ' || sum(hashtext(row(id, full_name, email)::text)) FROM users_v2" \
                      -c "SELECT count(*) || ' ' || sum(hashtext(row(user_id, street, city, postal_code)::text)) FROM addresses")
    if [ "$src" = "$tgt" ]; then echo MATCH; else log "source $(echo $src), target $(echo $tgt)"; echo MISMATCH; fi
}

log "pipe: COPY … TO STDOUT | COPY … FROM STDIN, users_v2 and addresses at once"
checkpoint
start=$EPOCHREALTIME
q "$SRC" -c "COPY (SELECT id, name, email FROM users) TO STDOUT" | q "$PIPE" -c "COPY users_v2 FROM STDIN" &
users_pipe=$!
q "$SRC" -c "COPY (SELECT id, address_street, address_city, address_postal_code FROM users WHERE address_street IS NOT NULL) TO STDOUT" |
    q "$PIPE" -c "COPY addresses FROM STDIN"
wait $users_pipe
PIPE_S=$(calc "printf \"%.2f\", $EPOCHREALTIME - $start")
PIPE_OK=$(check "$PIPE")

log "walbridge: run with backfill: auto"
CONFIG=$(mktemp /tmp/walbridge-backfill.XXXXXX.yml)
users_config "$SRC" "$BRIDGE" walbridge_bfbench >"$CONFIG"
checkpoint
start=$EPOCHREALTIME
"$BIN" run --config "$CONFIG" >"$OUT/backfill-walbridge.out" 2>"$OUT/backfill-walbridge.err" &
BRIDGE_PID=$!
deadline=$(calc "printf \"%.6f\", $start + $TIMEOUT")
BRIDGE_S=
while kill -0 "$BRIDGE_PID" 2>/dev/null; do
    if [ "$(q "$BRIDGE" -c "SELECT state FROM walbridge.backfill WHERE source_table = 'public.users'" 2>/dev/null)" = done ]; then
        BRIDGE_S=$(calc "printf \"%.2f\", $EPOCHREALTIME - $start")
        break
    fi
    if calc "exit !($EPOCHREALTIME > $deadline)"; then break; fi
    sleep 0.05
done
RSS_MB=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$BRIDGE_PID/status" 2>/dev/null || echo -)
BRIDGE_OK=$( [ -n "$BRIDGE_S" ] && check "$BRIDGE" || echo "NOT DONE")
kill -TERM "$BRIDGE_PID"; wait "$BRIDGE_PID" || true; BRIDGE_PID=

{
    echo
    echo "backfill of $ROWS users, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), PostgreSQL $(q "$SRC" -c 'SHOW server_version'), fsync=$(q "$SRC" -c 'SHOW fsync')"
    printf '%-10s %9s %12s %-9s %8s\n' copy seconds "rows/s" check "RSS MiB"
    printf '%-10s %9s %12s %-9s %8s\n' pipe "$PIPE_S" "$(calc "printf \"%.0f\", $ROWS / $PIPE_S")" "$PIPE_OK" -
    if [ -n "$BRIDGE_S" ]; then
        printf '%-10s %9s %12s %-9s %8s\n' walbridge "$BRIDGE_S" "$(calc "printf \"%.0f\", $ROWS / $BRIDGE_S")" "$BRIDGE_OK" "$RSS_MB"
        echo "ratio walbridge/pipe: $(calc "printf \"%.2f\", $PIPE_S / $BRIDGE_S") (goal >= 0.80); peak RSS goal < 200 MB"
    else
        echo "walbridge did not finish within $TIMEOUT s (see bench/out/backfill-walbridge.err)"
    fi
} | tee "$OUT/backfill.txt"
q "$WALBRIDGE_TEST_TARGET" -c "DROP DATABASE bfpipe" -c "DROP DATABASE bfbridge"
q "$WALBRIDGE_TEST_SOURCE" -c "SELECT pg_drop_replication_slot('walbridge_bfbench')" >/dev/null
q "$WALBRIDGE_TEST_SOURCE" -c "DROP DATABASE bfbench"
[ "$PIPE_OK" = MATCH ] && [ "$BRIDGE_OK" = MATCH ]
