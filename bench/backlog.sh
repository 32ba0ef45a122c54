#!/usr/bin/env bash
# Backlog catch-up: walbridge against native logical replication on the same backlogs.
#
#   scripts/with-clusters.sh bench/backlog.sh
#   WALBRIDGE_PG_FSYNC=on scripts/with-clusters.sh bench/backlog.sh   # for published figures
#   BENCH_SKIP_WALBRIDGE=1 scripts/with-clusters.sh bench/backlog.sh  # native half only
#
# On the source cluster, database bench holds the seed's legacy users table with BENCH_SEED_ROWS
# existing users and publication bench_pub. Two logical slots hold the same backlog: native_slot
# (made by CREATE SUBSCRIPTION native_sub, disabled, in target database native, whose users table
# is identical and pre-filled with the seed rows) and walbridge_bench (for `walbridge run` with
# the seed mapping into users_v2 and addresses in target database bridge, pre-filled with the
# seed rows mapped). With both stopped it queues, and times each system catching up on in turn,
# native first:
#   (a) BENCH_TXNS single-row transactions on users: 50 % inserts, 35 % updates (renames, and
#       addresses cleared or set so that the addresses mapping's `when` flips), 15 % deletes;
#   (b) one transaction inserting BENCH_BIG_ROWS users, addresses on half of them.
# The goal of a backlog is pg_current_wal_lsn() on the source right after its last commit.
# Native has caught up when pg_stat_subscription.latest_end_lsn >= goal; walbridge when the
# target's walbridge.progress.applied_lsn for slot walbridge_bench >= goal (it must record the
# end LSN of the last applied transaction, or more). Each timing starts just before
# ALTER SUBSCRIPTION … ENABLE / starting `walbridge run --config FILE` and ends at the server
# clock of the poll that saw the goal (polled every 10 ms). Then the target is checked against
# the source (row counts and a hash sum of the rows, MATCH or MISMATCH) while the system still
# runs, and it is stopped: the subscription disabled, walbridge sent SIGTERM (its VmHWM, the
# peak RSS, is read just before).
# It prints changes (rows actually changed on the source) per second for both, walbridge/native,
# and walbridge's peak RSS; the goal is a ratio >= 1.0 on both backlogs and peak RSS < 200 MB
# for (b). The table is also written to bench/out/backlog.txt, walbridge's logs to
# bench/out/backlog-walbridge-{a,b}.{out,err}.
#
# Environment: BENCH_SEED_ROWS (100000), BENCH_TXNS (200000, at most 2.2 x the seed rows),
# BENCH_BIG_ROWS (1000000), BENCH_WORKERS (2 sessions queue backlog (a)), BENCH_TIMEOUT
# (600 s per catch-up), BENCH_SKIP_WALBRIDGE=1, WALBRIDGE_BIN (else built with
# `swift build -c release --product walbridge`), SWIFT_SCRATCH_PATH (build directory, .build).
# Before each timed run both clusters get a CHECKPOINT, and after queuing a backlog the source
# table a VACUUM ANALYZE, so that neither system pays for work the other left behind. The target
# cluster gets wal_retrieve_retry_interval = 50ms: with the default 5 s the launcher may wait up
# to 5 s before starting the re-enabled subscription's apply worker. native_sub otherwise keeps
# PostgreSQL's defaults (its apply worker commits with synchronous_commit = off; streaming = off).
# Exit status: 0 when everything caught up and matched, 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SQL="$ROOT/bench/backlog"
SEED=${BENCH_SEED_ROWS:-100000}
TXNS=${BENCH_TXNS:-200000}
BIG=${BENCH_BIG_ROWS:-1000000}
WORKERS=${BENCH_WORKERS:-2}
TIMEOUT=${BENCH_TIMEOUT:-600}
SKIP=${BENCH_SKIP_WALBRIDGE:-}
if [ "$SKIP" = 0 ]; then SKIP=; fi

BENCH_NAME=backlog
. "$ROOT/bench/common.sh"

[ "$TXNS" -le $((SEED * 20 / 9)) ] || die "BENCH_TXNS ($TXNS) may be at most 2.2 x BENCH_SEED_ROWS ($SEED): its deletes hit seed ids 3, 6, 9, …"

SRC_ADMIN=$WALBRIDGE_TEST_SOURCE
TGT_ADMIN=$WALBRIDGE_TEST_TARGET
SRC=$(with_db "$WALBRIDGE_TEST_SOURCE" bench)
NATIVE=$(with_db "$WALBRIDGE_TEST_TARGET" native)
BRIDGE=$(with_db "$WALBRIDGE_TEST_TARGET" bridge)

trap stop_bridge EXIT

# ---------------------------------------------------------------------------------------------
# walbridge binary (first, so that a missing `run` fails before minutes of setup)

if [ -z "$SKIP" ]; then
    BIN=$(walbridge_bin)
    "$BIN" run --help >/dev/null 2>&1 ||
        die "$BIN has no working 'run' subcommand yet ('$BIN run --help' fails); set BENCH_SKIP_WALBRIDGE=1 for the native half only"
    CONFIG=$(mktemp /tmp/walbridge-backlog.XXXXXX.yml)
    # The conninfo strings hold no '|', '&' or '\' (host=… port=… user=… dbname=…).
    sed -e "s|@SOURCE@|$SRC|" -e "s|@TARGET@|$BRIDGE|" "$SQL/walbridge.yml.in" >"$CONFIG"
fi

# ---------------------------------------------------------------------------------------------
# Set-up: databases, seed rows, publication, both slots

log "creating source database bench with $SEED users and publication bench_pub"
q "$SRC_ADMIN" -c "CREATE DATABASE bench"
q "$SRC" -v seed="$SEED" -f "$SQL/source.sql"

# The logical replication launcher starts a worker at most once per wal_retrieve_retry_interval
# (5 s): re-enabling native_sub soon after disabling it would wait for that, not for replication.
q "$TGT_ADMIN" -c "ALTER SYSTEM SET wal_retrieve_retry_interval = '50ms'" -c "SELECT pg_reload_conf()" >/dev/null

log "creating target databases native (users) and bridge (users_v2, addresses) with the seed rows"
q "$TGT_ADMIN" -c "CREATE DATABASE native" -c "CREATE DATABASE bridge"
q "$NATIVE" -f "$SQL/native-target.sql"
q "$BRIDGE" -f "$SQL/bridge-target.sql"
q "$SRC" -c "COPY users TO STDOUT" | q "$NATIVE" -c "COPY users FROM STDIN"
q "$SRC" -c "COPY (SELECT id, name, email FROM users) TO STDOUT" |
    q "$BRIDGE" -c "COPY users_v2 FROM STDIN"
q "$SRC" -c "COPY (SELECT id, address_street, address_city, address_postal_code FROM users
                   WHERE address_street IS NOT NULL) TO STDOUT" |
    q "$BRIDGE" -c "COPY addresses FROM STDIN"
q "$NATIVE" -c "VACUUM ANALYZE users"
q "$BRIDGE" -c "VACUUM ANALYZE users_v2" -c "VACUUM ANALYZE addresses"

log "creating slots walbridge_bench and native_slot (subscription native_sub, disabled)"
q "$SRC" -c "SELECT pg_create_logical_replication_slot('walbridge_bench', 'pgoutput')" >/dev/null
q "$NATIVE" -c "SET client_min_messages = warning" -c "CREATE SUBSCRIPTION native_sub
    CONNECTION '${SRC//\'/\'\'}' PUBLICATION bench_pub
    WITH (enabled = false, copy_data = false, create_slot = true, slot_name = 'native_slot')"

# ---------------------------------------------------------------------------------------------
# Checks: MATCH when the target holds what the source holds (counts and a hash sum of rows).

check_native() {
    local query="SELECT count(*) || ' ' || coalesce(sum(hashtext(u::text)), 0) FROM users u"
    local src tgt
    src=$(q "$SRC" -c "$query")
    tgt=$(q "$NATIVE" -c "$query")
    if [ "$src" = "$tgt" ]; then echo MATCH; else
        log "native check: source users (count hashsum) $src, native target $tgt"
        echo MISMATCH
    fi
}

check_bridge() {
    local src tgt
    src=$(q "$SRC" -c "SELECT count(*) || ' ' || coalesce(sum(hashtext(row(id, name, email)::text)), 0) FROM users" \
                   -c "SELECT count(*) || ' ' || coalesce(sum(hashtext(row(id, address_street, address_city, address_postal_code)::text)), 0)
                       FROM users WHERE address_street IS NOT NULL")
    tgt=$(q "$BRIDGE" -c "SELECT count(*) || ' ' || coalesce(sum(hashtext(row(id, full_name, email)::text)), 0) FROM users_v2" \
                      -c "SELECT count(*) || ' ' || coalesce(sum(hashtext(row(user_id, street, city, postal_code)::text)), 0) FROM addresses")
    if [ "$src" = "$tgt" ]; then echo MATCH; else
        log "walbridge check: source users / addressed users (count hashsum) $(echo $src), target users_v2 / addresses $(echo $tgt)"
        echo MISMATCH
    fi
}

# ---------------------------------------------------------------------------------------------
# Results

declare -A CHANGES NATIVE_S BRIDGE_S RSS_MB NATIVE_OK BRIDGE_OK
BACKLOGS=()
FAILED=

report() {
    local b desc nrate brate ratio
    {
        echo
        echo "backlog catch-up, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
        echo "PostgreSQL $(q "$SRC" -c 'SHOW server_version'), fsync=$(q "$SRC" -c 'SHOW fsync'), synchronous_commit=$(q "$SRC" -c 'SHOW synchronous_commit') on the source, $SEED seed users"
        printf '%-30s %9s | %8s %9s %-8s | %8s %9s %-8s | %6s %8s\n' \
            backlog changes "native s" "changes/s" check "wb s" "changes/s" check ratio "RSS MiB"
        for b in "${BACKLOGS[@]}"; do
            case $b in
                a) desc="(a) $TXNS single-row txns" ;;
                b) desc="(b) 1 txn of $BIG inserts" ;;
            esac
            nrate=-; brate=-; ratio=-
            if [ -n "${NATIVE_S[$b]:-}" ]; then
                nrate=$(calc "printf \"%.0f\", ${CHANGES[$b]} / ${NATIVE_S[$b]}")
            fi
            if [ -n "${BRIDGE_S[$b]:-}" ]; then
                brate=$(calc "printf \"%.0f\", ${CHANGES[$b]} / ${BRIDGE_S[$b]}")
                ratio=$(calc "printf \"%.2f\", ${NATIVE_S[$b]} / ${BRIDGE_S[$b]}")
            fi
            printf '%-30s %9s | %8s %9s %-8s | %8s %9s %-8s | %6s %8s\n' "$desc" "${CHANGES[$b]}" \
                "${NATIVE_S[$b]:--}" "$nrate" "${NATIVE_OK[$b]:--}" \
                "${BRIDGE_S[$b]:--}" "$brate" "${BRIDGE_OK[$b]:--}" "$ratio" "${RSS_MB[$b]:--}"
        done
        echo "ratio = walbridge changes/s / native changes/s (goal >= 1.00); RSS = walbridge VmHWM (goal < 200 MB on (b))"
        if [ -n "$SKIP" ]; then echo "walbridge skipped (BENCH_SKIP_WALBRIDGE)"; fi
        if [ -n "$FAILED" ]; then echo "FAILED: $FAILED"; fi
    } | tee "$OUT/backlog.txt"
}

fail() {
    FAILED=$1
    log "$1"
    report
    exit 1
}

# ---------------------------------------------------------------------------------------------
# Timed runs

checkpoint() {
    q "$SRC_ADMIN" -c CHECKPOINT
    q "$TGT_ADMIN" -c CHECKPOINT
}

# run_native BACKLOG GOAL
run_native() {
    local b=$1 goal=$2 began done_at started
    checkpoint
    log "($b) native: enabling native_sub, waiting for latest_end_lsn >= $goal"
    began=$EPOCHREALTIME
    q "$NATIVE" -c "ALTER SUBSCRIPTION native_sub ENABLE"
    while :; do
        done_at=$(q "$TGT_ADMIN" -v probe="SELECT latest_end_lsn >= '$goal' FROM pg_stat_subscription WHERE subname = 'native_sub' AND relid IS NULL" -v wait=1 -f "$ROOT/bench/wait.sql")
        [ -n "$done_at" ] && break
        if [ "$(calc "print ($EPOCHREALTIME - $began > $TIMEOUT)")" = 1 ]; then
            q "$TGT_ADMIN" -c "SELECT 'pg_stat_subscription: ' || s::text FROM pg_stat_subscription s" \
                           -c "SELECT 'pg_stat_subscription_stats: ' || s::text FROM pg_stat_subscription_stats s" >&2 || true
            fail "($b) native replication did not reach $goal within ${TIMEOUT}s"
        fi
    done
    NATIVE_S[$b]=$(calc "printf \"%.2f\", $done_at - $began")
    started=$(q "$TGT_ADMIN" -c "SELECT extract(epoch FROM backend_start) FROM pg_stat_activity
        WHERE pid = (SELECT pid FROM pg_stat_subscription WHERE subname = 'native_sub' AND relid IS NULL)")
    log "($b) native: caught up in ${NATIVE_S[$b]}s (apply worker started after $(calc "printf \"%.2f\", ${started:-0} - $began")s)"
    # Checked while the subscription is still enabled, so that a catch-up signalled too early
    # shows as MISMATCH instead of being hidden by rows applied meanwhile.
    NATIVE_OK[$b]=$(check_native)
    log "($b) native: check ${NATIVE_OK[$b]}; disabling native_sub"
    q "$NATIVE" -c "ALTER SUBSCRIPTION native_sub DISABLE"
    for _ in $(seq 1 300); do
        [ "$(q "$SRC" -c "SELECT active FROM pg_replication_slots WHERE slot_name = 'native_slot'")" = f ] && break
        sleep 0.1
    done
}

alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# run_bridge BACKLOG GOAL
run_bridge() {
    local b=$1 goal=$2 began done_at hwm status=0 err="$OUT/backlog-walbridge-$1.err"
    checkpoint
    log "($b) walbridge: starting $BIN run, waiting for walbridge.progress.applied_lsn >= $goal"
    began=$EPOCHREALTIME
    env -u WALBRIDGE_SOURCE -u WALBRIDGE_TARGET "$BIN" run --config "$CONFIG" \
        >"$OUT/backlog-walbridge-$b.out" 2>"$err" &
    BRIDGE_PID=$!
    while :; do
        done_at=$(q "$BRIDGE" -v probe="SELECT applied_lsn >= '$goal' FROM walbridge.progress WHERE slot = 'walbridge_bench'" -v wait=1 -f "$ROOT/bench/wait.sql")
        [ -n "$done_at" ] && break
        if ! alive "$BRIDGE_PID"; then
            wait "$BRIDGE_PID" || status=$?
            BRIDGE_PID=
            echo "--- last lines of walbridge's stderr ($err)" >&2
            tail -n 30 "$err" >&2
            fail "($b) walbridge run exited early with status $status before reaching $goal"
        fi
        if [ "$(calc "print ($EPOCHREALTIME - $began > $TIMEOUT)")" = 1 ]; then
            q "$BRIDGE" -c "SELECT 'walbridge.progress: ' || p::text FROM walbridge.progress p" >&2 2>/dev/null || true
            echo "--- last lines of walbridge's stderr ($err)" >&2
            tail -n 30 "$err" >&2
            fail "($b) walbridge did not reach $goal within ${TIMEOUT}s"
        fi
    done
    BRIDGE_S[$b]=$(calc "printf \"%.2f\", $done_at - $began")
    log "($b) walbridge: caught up in ${BRIDGE_S[$b]}s"
    # Checked while walbridge still runs, for the same reason as native's.
    BRIDGE_OK[$b]=$(check_bridge)
    alive "$BRIDGE_PID" || fail "($b) walbridge exited after catching up, before it was stopped (see $err)"
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$BRIDGE_PID/status")
    RSS_MB[$b]=$(calc "printf \"%.1f\", $hwm / 1024")
    log "($b) walbridge: check ${BRIDGE_OK[$b]}, peak RSS ${RSS_MB[$b]} MiB; stopping it (SIGTERM)"
    kill -TERM "$BRIDGE_PID"
    for _ in $(seq 1 300); do alive "$BRIDGE_PID" || break; sleep 0.1; done
    if alive "$BRIDGE_PID"; then
        log "($b) walbridge: still running 30 s after SIGTERM; killing it"
        kill -KILL "$BRIDGE_PID" || true
    fi
    wait "$BRIDGE_PID" || status=$?
    BRIDGE_PID=
    [ "$status" = 0 ] || log "($b) walbridge: exited with status $status after SIGTERM (see $err)"
}

# Logs how much the source's walsenders spilled to disk so far (decoding of large transactions).
log_spill() {
    log "source slots so far: $(q "$SRC" -c "SELECT string_agg(format('%s spilled %s txns / %s MiB',
        slot_name, spill_txns, spill_bytes / 1048576), ', ' ORDER BY slot_name) FROM pg_stat_replication_slots")"
}

run_both() {
    local b=$1 goal=$2
    q "$SRC" -c "VACUUM ANALYZE users"
    BACKLOGS+=("$b")
    run_native "$b" "$goal"
    [ -n "$SKIP" ] || run_bridge "$b" "$goal"
    log_spill
}

# ---------------------------------------------------------------------------------------------
# (a) single-row transactions

log "(a) queuing $TXNS single-row transactions from $WORKERS sessions"
began=$EPOCHREALTIME
pids=()
for ((w = 0; w < WORKERS; w++)); do
    q "$SRC" -c "CALL bench_backlog_a($w, $WORKERS, $TXNS, $SEED)" >"$OUT/backlog-a.$w" &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || die "(a) queuing the backlog failed"; done
CHANGES[a]=$(cat "$OUT"/backlog-a.* | awk -F'|' '{ s += $1 } END { print s }')
goal=$(cut -d'|' -f2 "$OUT"/backlog-a.* | sed "s/.*/'&'::pg_lsn/" | paste -sd, |
    { read -r list; q "$SRC" -c "SELECT max(l) FROM unnest(ARRAY[$list]) l"; })
rm -f "$OUT"/backlog-a.*
log "(a) queued ${CHANGES[a]} changes in $(calc "printf \"%.1f\", $EPOCHREALTIME - $began")s, goal LSN $goal"
run_both a "$goal"

# ---------------------------------------------------------------------------------------------
# (b) one large transaction

first=$((SEED + TXNS + 1))
log "(b) queuing one transaction inserting $BIG users (ids from $first)"
began=$EPOCHREALTIME
result=$(psql "$SRC" -X -At -v ON_ERROR_STOP=1 \
    -c "INSERT INTO users
        SELECT g, 'Bulk user ' || g, 'bulk' || g || '@example.com',
               CASE WHEN g % 2 = 0 THEN g || ' Bulk Street' END,
               CASE WHEN g % 2 = 0 THEN 'Bulkville' END,
               CASE WHEN g % 2 = 0 THEN lpad((g % 100000)::text, 5, '0') END
        FROM generate_series($first, $first + $BIG - 1) g" \
    -c "SELECT pg_current_wal_lsn()")
CHANGES[b]=$(sed -n 's/^INSERT 0 //p' <<<"$result")
goal=$(tail -n 1 <<<"$result")
log "(b) queued ${CHANGES[b]} changes in $(calc "printf \"%.1f\", $EPOCHREALTIME - $began")s, goal LSN $goal"
run_both b "$goal"

report
for b in "${BACKLOGS[@]}"; do
    [ "${NATIVE_OK[$b]}" = MATCH ] || exit 1
    [ -n "$SKIP" ] || [ "${BRIDGE_OK[$b]}" = MATCH ] || exit 1
done
