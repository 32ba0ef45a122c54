#!/usr/bin/env bash
# The benchmark matrix: every mapping shape under every workload, each row against its baseline
# measured in the same run, printed as a table and written to bench/out/matrix.{txt,json}.
#
#   WALBRIDGE_PG_FSYNC=on scripts/with-clusters.sh bench/matrix.sh
#   BENCH_SHAPES="expr split" BENCH_PARTS=drains WALBRIDGE_BIN=… scripts/with-clusters.sh bench/matrix.sh
#
# Mapping shapes of the source table accounts (id, name, email, balance_cents, region, bio):
#   rename  every target column is a source column of the same type (new rows go by COPY);
#   expr    an expression or cast in every non-key column (initcap, lower, cents::numeric / 100, coalesce);
#   split   two targets: accounts_v2 (with cents → numeric) and account_regions `when: region IS NOT NULL`;
#   toast   renames of a wide row whose bio (3,200 incompressible bytes, STORAGE EXTERNAL) is TOASTed;
#           updates leave it out of the stream (unchanged TOAST).
# Drains (a backlog queued while both systems are stopped, then timed catching up, native first):
#   inserts  BENCH_TXNS single-row insert transactions (2 sessions);
#   updates  BENCH_TXNS single-row updates of non-key columns of seed rows;
#   mix      BENCH_TXNS transactions: 40 % inserts, 30 % updates, 15 % deletes, 15 % key changes;
#   big      one transaction inserting BENCH_BIG_ROWS rows (the toast shape: a BENCH_TOAST_DIVISOR-th);
#   pgbench  pgbench's built-in tpcb-like script (2 clients × BENCH_PGBENCH_TXNS) on its four tables, mapped
#            into a new schema (renames, balances cents → numeric; history gets a bigserial key first).
# Baseline of a drain: native logical replication (CREATE SUBSCRIPTION, identity: the same table in
# the target) of the same backlog, from its own slot; timed from ALTER SUBSCRIPTION … ENABLE to
# pg_stat_subscription.latest_end_lsn ≥ goal, walbridge from `walbridge run` to
# walbridge.progress.applied_lsn ≥ goal (goal: pg_current_wal_lsn() after the backlog's last commit).
# Backfill: BENCH_BACKFILL_ROWS rows (toast: a BENCH_TOAST_DIVISOR-th) copied by `walbridge run`
# (backfill: auto) until walbridge.backfill says done, against the hand-made pipe
# `COPY (SELECT mapped expressions FROM accounts WHERE when) TO STDOUT | COPY target FROM STDIN`,
# one per target, side by side.
# Every target is checked while the system still runs: native against the source table, walbridge
# against the mapping evaluated by SQL over the source (row count and a hash sum per target).
# walbridge's peak RSS (VmHWM) and CPU seconds (utime + stime) are read before it is stopped.
#
# Environment: BENCH_SHAPES ("rename expr split toast"), BENCH_WORKLOADS ("inserts updates mix big"),
# BENCH_PARTS ("drains pgbench backfill"), BENCH_SEED_ROWS (100000, a multiple of 4), BENCH_TXNS (200000),
# BENCH_BIG_ROWS (500000), BENCH_BACKFILL_ROWS (2000000), BENCH_TOAST_DIVISOR (10),
# BENCH_PGBENCH_TXNS (10000 per client), BENCH_PGBENCH_SCALE (1), BENCH_TIMEOUT (600 s per timing),
# BENCH_PERF (set: `perf record -a -g` while walbridge, and native replication, run; top symbols per
# process in bench/out/matrix-perf-ROW.txt and matrix-perf-ROW-native.txt), WALBRIDGE_BIN (else a release build). Exit status 1 on any MISMATCH or timeout.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SQL="$ROOT/bench/matrix"
SHAPES=${BENCH_SHAPES:-"rename expr split toast"}
WORKLOADS=${BENCH_WORKLOADS:-"inserts updates mix big"}
PARTS=${BENCH_PARTS:-"drains pgbench backfill"}
SEED=${BENCH_SEED_ROWS:-100000}
TXNS=${BENCH_TXNS:-200000}
BIG=${BENCH_BIG_ROWS:-500000}
BACKFILL=${BENCH_BACKFILL_ROWS:-2000000}
TOAST_DIVISOR=${BENCH_TOAST_DIVISOR:-10}
PGBENCH_TXNS=${BENCH_PGBENCH_TXNS:-10000}
PGBENCH_SCALE=${BENCH_PGBENCH_SCALE:-1}
TIMEOUT=${BENCH_TIMEOUT:-600}
PERF=${BENCH_PERF:-}
PERF_PID=
WORKERS=2

BENCH_NAME=matrix
. "$ROOT/bench/common.sh"
[ $((SEED % 4)) = 0 ] || die "BENCH_SEED_ROWS ($SEED) must be a multiple of 4"
PGBIN=${WALBRIDGE_TEST_PGBIN:-/usr/lib/postgresql/15/bin}
SRC_ADMIN=$WALBRIDGE_TEST_SOURCE
TGT_ADMIN=$WALBRIDGE_TEST_TARGET
TICKS=$(getconf CLK_TCK)
BIN=$(walbridge_bin)
"$BIN" run --help >/dev/null 2>&1 || die "$BIN has no working 'run' subcommand"
# Drops what a run leaves behind: subscriptions, slots and databases named mx*.
cleanup() {
    [ -z "$PERF_PID" ] || kill -INT "$PERF_PID" 2>/dev/null || true
    stop_bridge
    local db
    for db in $(q "$TGT_ADMIN" -c "SELECT datname FROM pg_database WHERE datname LIKE 'mx%'"); do
        for sub in $(q "$TGT_ADMIN" -c "SELECT subname FROM pg_subscription s JOIN pg_database d ON d.oid = s.subdbid WHERE d.datname = '$db'"); do
            q "$(with_db "$TGT_ADMIN" "$db")" -c "ALTER SUBSCRIPTION $sub DISABLE" -c "ALTER SUBSCRIPTION $sub SET (slot_name = NONE)" -c "DROP SUBSCRIPTION $sub" >/dev/null 2>&1 || true
        done
        q "$TGT_ADMIN" -c "DROP DATABASE $db" >/dev/null 2>&1 || true
    done
    q "$SRC_ADMIN" -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'mx%' AND NOT active" >/dev/null 2>&1 || true
    for db in $(q "$SRC_ADMIN" -c "SELECT datname FROM pg_database WHERE datname LIKE 'mx%'"); do q "$SRC_ADMIN" -c "DROP DATABASE $db" >/dev/null 2>&1 || true; done
}
cleanup
trap cleanup EXIT
q "$TGT_ADMIN" -c "ALTER SYSTEM SET wal_retrieve_retry_interval = '50ms'" -c "SELECT pg_reload_conf()" >/dev/null

# ---------------------------------------------------------------------------------------------
# Mappings: one line per target, fields separated by '|':
#   source table | target table | target columns (DDL) | target column names (', ') | source expressions ('; ') | when

shape_targets() {
    case $1 in
    rename) echo "accounts|accounts_v2|id bigint PRIMARY KEY, full_name text NOT NULL, email text, balance_cents bigint NOT NULL, region text|id, full_name, email, balance_cents, region|id; name; email; balance_cents; region|" ;;
    expr) echo "accounts|accounts_v2|id bigint PRIMARY KEY, full_name text NOT NULL, email text, balance numeric NOT NULL, region text NOT NULL|id, full_name, email, balance, region|id; initcap(name); lower(email); balance_cents::numeric / 100; coalesce(region, 'none')|" ;;
    split)
        echo "accounts|accounts_v2|id bigint PRIMARY KEY, full_name text NOT NULL, email text, balance numeric NOT NULL|id, full_name, email, balance|id; name; email; balance_cents::numeric / 100|"
        echo "accounts|account_regions|account_id bigint PRIMARY KEY, region text NOT NULL|account_id, region|id; region|region IS NOT NULL" ;;
    toast) echo "accounts|accounts_v2|id bigint PRIMARY KEY, full_name text NOT NULL, email text, balance_cents bigint NOT NULL, region text, bio text|id, full_name, email, balance_cents, region, bio|id; name; email; balance_cents; region; bio|" ;;
    pgbench)
        echo "pgbench_accounts|accounts_v2|account_id int PRIMARY KEY, branch_id int NOT NULL, balance numeric NOT NULL|account_id, branch_id, balance|aid; bid; abalance::numeric / 100|"
        echo "pgbench_branches|branches_v2|branch_id int PRIMARY KEY, balance numeric NOT NULL|branch_id, balance|bid; bbalance::numeric / 100|"
        echo "pgbench_tellers|tellers_v2|teller_id int PRIMARY KEY, branch_id int NOT NULL, balance numeric NOT NULL|teller_id, branch_id, balance|tid; bid; tbalance::numeric / 100|"
        echo "pgbench_history|history_v2|id bigint PRIMARY KEY, teller_id int, branch_id int, account_id int, delta numeric, at timestamp|id, teller_id, branch_id, account_id, delta, at|hid; tid; bid; aid; delta::numeric / 100; mtime|" ;;
    esac
}

# The source tables of a shape.
shape_sources() { shape_targets "$1" | cut -d'|' -f1 | awk '!seen[$0]++'; }

# shape_config SHAPE SOURCE TARGET SLOT BACKFILL: the walbridge configuration.
shape_config() {
    local shape=$1
    printf 'source: "%s"\ntarget: "%s"\nslot: %s\npublication: mx_pub\nbackfill: %s\ntables:\n' "$2" "$3" "$4" "$5"
    local source
    for source in $(shape_sources "$shape"); do
        echo "  public.$source:"
        shape_targets "$shape" | while IFS='|' read -r src table _ cols exprs when; do
            [ "$src" = "$source" ] || continue
            echo "    - into: public.$table"
            echo "      key: [${cols%%,*}]"
            echo "      columns:"
            paste -d'|' <(tr ',' '\n' <<<"$cols" | sed 's/^ *//') <(sed 's/; /\n/g' <<<"$exprs") |
                while IFS='|' read -r col expr; do echo "        $col: \"$expr\""; done
            if [ -n "$when" ]; then echo "      when: \"$when\""; fi
        done
    done
}

# create_targets SHAPE CONNINFO: the shape's target tables.
create_targets() {
    shape_targets "$1" | while IFS='|' read -r _ table ddl _ _ _; do q "$2" -c "CREATE TABLE $table ($ddl)"; done
    # Stored as on the source (and in native replication's copy), so that no target compresses what the others do not.
    [ "$1" != toast ] || q "$2" -c "ALTER TABLE accounts_v2 ALTER COLUMN bio SET STORAGE EXTERNAL"
}

# fill_targets SHAPE SOURCE TARGET: the targets filled with the mapping over the source (a pipe per target).
fill_targets() {
    local pids=() pid
    while IFS='|' read -r src table _ cols exprs when; do
        q "$2" -c "COPY (SELECT ${exprs//; /, } FROM $src${when:+ WHERE $when}) TO STDOUT" | q "$3" -c "COPY $table ($cols) FROM STDIN" &
        pids+=($!)
    done < <(shape_targets "$1")
    for pid in "${pids[@]}"; do wait "$pid" || die "copying into the targets failed"; done
}

# check_bridge SHAPE SOURCE TARGET: MATCH when every target equals the mapping over the source.
check_bridge() {
    local src tgt
    src=$(shape_targets "$1" | while IFS='|' read -r source _ _ _ exprs when; do
        q "$2" -c "SELECT count(*) || ' ' || coalesce(sum(hashtext(row(${exprs//; /, })::text)), 0) FROM $source${when:+ WHERE $when}"
    done)
    tgt=$(shape_targets "$1" | while IFS='|' read -r _ table _ cols _ _; do
        q "$3" -c "SELECT count(*) || ' ' || coalesce(sum(hashtext(row($cols)::text)), 0) FROM $table"
    done)
    if [ "$src" = "$tgt" ]; then echo MATCH; else log "$1: mapping over the source $(echo $src), walbridge's targets $(echo $tgt)"; echo MISMATCH; fi
}

# check_native SHAPE SOURCE TARGET: MATCH when every source table equals its copy.
check_native() {
    local src tgt table
    src=$(for table in $(shape_sources "$1"); do q "$2" -c "SELECT count(*) || ' ' || coalesce(sum(hashtext(t::text)), 0) FROM $table t"; done)
    tgt=$(for table in $(shape_sources "$1"); do q "$3" -c "SELECT count(*) || ' ' || coalesce(sum(hashtext(t::text)), 0) FROM $table t"; done)
    if [ "$src" = "$tgt" ]; then echo MATCH; else log "$1: source $(echo $src), native $(echo $tgt)"; echo MISMATCH; fi
}

# ---------------------------------------------------------------------------------------------
# Results: one row per shape and workload.

ROWS=()
declare -A R_CHANGES R_BASE R_WB R_BASE_OK R_WB_OK R_RSS R_CPU R_BASE_NAME
FAILED=

report() {
    local row base_rate wb_rate ratio first=1
    {
        echo
        echo "benchmark matrix, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), PostgreSQL $(q "$SRC_ADMIN" -c 'SHOW server_version'), fsync=$(q "$SRC_ADMIN" -c 'SHOW fsync')"
        printf '%-18s %9s | %-7s %8s %10s %-8s | %8s %10s %-8s | %6s %7s %7s\n' \
            "shape / workload" rows baseline "s" "rows/s" check "wb s" "rows/s" check ratio "RSS MiB" "CPU s"
        for row in "${ROWS[@]}"; do
            base_rate=-; wb_rate=-; ratio=-
            [ -z "${R_BASE[$row]:-}" ] || base_rate=$(calc "printf \"%.0f\", ${R_CHANGES[$row]} / ${R_BASE[$row]}")
            if [ -n "${R_WB[$row]:-}" ]; then
                wb_rate=$(calc "printf \"%.0f\", ${R_CHANGES[$row]} / ${R_WB[$row]}")
                [ -z "${R_BASE[$row]:-}" ] || ratio=$(calc "printf \"%.2f\", ${R_BASE[$row]} / ${R_WB[$row]}")
            fi
            printf '%-18s %9s | %-7s %8s %10s %-8s | %8s %10s %-8s | %6s %7s %7s\n' "$row" "${R_CHANGES[$row]}" \
                "${R_BASE_NAME[$row]}" "${R_BASE[$row]:--}" "$base_rate" "${R_BASE_OK[$row]:--}" \
                "${R_WB[$row]:--}" "$wb_rate" "${R_WB_OK[$row]:--}" "$ratio" "${R_RSS[$row]:--}" "${R_CPU[$row]:--}"
        done
        echo "ratio = walbridge rows/s / baseline rows/s (goals: drains >= 1.0 x native, backfill >= 0.8 x the pipe); RSS goal < 200 MB"
        if [ -n "$FAILED" ]; then echo "FAILED: $FAILED"; fi
    } | tee "$OUT/matrix.txt"
    {
        echo "{\"machine\": \"$(nproc) cores\", \"fsync\": \"$(q "$SRC_ADMIN" -c 'SHOW fsync')\", \"rows\": ["
        for row in "${ROWS[@]}"; do
            [ $first = 1 ] || echo ","
            first=0
            printf '  {"row": "%s", "changes": %s, "baseline": "%s", "baseline_s": %s, "walbridge_s": %s, "baseline_check": "%s", "walbridge_check": "%s", "rss_mib": %s, "cpu_s": %s}' \
                "$row" "${R_CHANGES[$row]}" "${R_BASE_NAME[$row]}" "${R_BASE[$row]:-null}" "${R_WB[$row]:-null}" \
                "${R_BASE_OK[$row]:-}" "${R_WB_OK[$row]:-}" "${R_RSS[$row]:-null}" "${R_CPU[$row]:-null}"
        done
        echo; echo "]}"
    } >"$OUT/matrix.json"
}

fail() {
    FAILED=$1
    log "$1"
    report
    exit 1
}

checkpoint() { q "$SRC_ADMIN" -c CHECKPOINT; q "$TGT_ADMIN" -c CHECKPOINT; }

# wait_for CONNINFO PROBE: the server clock when PROBE became true, or empty after TIMEOUT s.
wait_for() { q "$1" -v probe="$2" -v wait="$TIMEOUT" -f "$ROOT/bench/wait.sql"; }

alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# run_native ROW SUB SHAPE SOURCE TARGET GOAL
run_native() {
    local row=$1 sub=$2 began done_at
    checkpoint
    began=$EPOCHREALTIME
    start_perf "$row-native"
    q "$5" -c "ALTER SUBSCRIPTION $sub ENABLE"
    done_at=$(wait_for "$TGT_ADMIN" "SELECT latest_end_lsn >= '$6' FROM pg_stat_subscription WHERE subname = '$sub' AND relid IS NULL")
    stop_perf "$row-native"
    [ -n "$done_at" ] || fail "$row: native replication did not reach $6 within ${TIMEOUT}s"
    R_BASE[$row]=$(calc "printf \"%.2f\", $done_at - $began")
    R_BASE_NAME[$row]=native
    R_BASE_OK[$row]=$(check_native "$3" "$4" "$5")
    q "$5" -c "ALTER SUBSCRIPTION $sub DISABLE"
    for _ in $(seq 1 300); do
        [ "$(q "$4" -c "SELECT active FROM pg_replication_slots WHERE slot_name = '$sub'")" = f ] && break
        sleep 0.1
    done
    log "$row: native ${R_BASE[$row]} s, ${R_BASE_OK[$row]}"
}

# start_perf ROW: with BENCH_PERF, records the whole machine into bench/out/matrix-perf-ROW.data.
start_perf() {
    [ -z "$PERF" ] || { perf record -a -g -q -o "$OUT/matrix-perf-${1//\//-}.data" 2>/dev/null & PERF_PID=$!; }
}

# stop_perf ROW: with BENCH_PERF, ends the recording of the whole machine and writes its top symbols by process.
stop_perf() {
    [ -n "$PERF_PID" ] || return 0
    kill -INT "$PERF_PID"; wait "$PERF_PID" || true; PERF_PID=
    perf report -i "$OUT/matrix-perf-${1//\//-}.data" --no-children --sort comm,dso,sym --percent-limit 0.7 --stdio 2>/dev/null |
        grep -v '^$' | grep -v '^#' | grep '%' >"$OUT/matrix-perf-${1//\//-}.txt" || true
}

# run_bridge ROW CONFIG PROBE CHECK…: runs walbridge until PROBE (on the bridge's database, the last
# argument of CHECK) holds, then runs CHECK, reads its peak RSS and CPU time, and stops it.
run_bridge() {
    local row=$1 config=$2 probe=$3 began done_at hwm cpu status=0 err="$OUT/matrix-walbridge-${1//\//-}.err"
    shift 3
    local target=${!#}
    checkpoint
    began=$EPOCHREALTIME
    env -u WALBRIDGE_SOURCE -u WALBRIDGE_TARGET "$BIN" run --config "$config" >/dev/null 2>"$err" &
    BRIDGE_PID=$!
    start_perf "$row"
    while :; do
        done_at=$(q "$target" -v probe="$probe" -v wait=1 -f "$ROOT/bench/wait.sql")
        [ -n "$done_at" ] && break
        if ! alive "$BRIDGE_PID"; then
            wait "$BRIDGE_PID" || status=$?
            BRIDGE_PID=
            tail -n 30 "$err" >&2
            fail "$row: walbridge run exited with status $status before it was done"
        fi
        [ "$(calc "print ($EPOCHREALTIME - $began > $TIMEOUT)")" = 0 ] || { tail -n 30 "$err" >&2; fail "$row: walbridge not done within ${TIMEOUT}s"; }
    done
    R_WB[$row]=$(calc "printf \"%.2f\", $done_at - $began")
    stop_perf "$row"
    R_WB_OK[$row]=$("$@")
    alive "$BRIDGE_PID" || { tail -n 30 "$err" >&2; fail "$row: walbridge exited after it was done, before it was stopped (see $err)"; }
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$BRIDGE_PID/status")
    cpu=$(awk '{ print $14 + $15 }' "/proc/$BRIDGE_PID/stat")
    R_RSS[$row]=$(calc "printf \"%.1f\", $hwm / 1024")
    R_CPU[$row]=$(calc "printf \"%.1f\", $cpu / $TICKS")
    kill -TERM "$BRIDGE_PID"
    for _ in $(seq 1 300); do alive "$BRIDGE_PID" || break; sleep 0.1; done
    alive "$BRIDGE_PID" && kill -KILL "$BRIDGE_PID"
    wait "$BRIDGE_PID" || true
    BRIDGE_PID=
    log "$row: walbridge ${R_WB[$row]} s, ${R_WB_OK[$row]}, ${R_RSS[$row]} MiB, ${R_CPU[$row]} CPU s"
}

# ---------------------------------------------------------------------------------------------
# Drains: per shape a source database with SEED rows, a native target (identity) and walbridge's.

# prepare_drains SHAPE: databases mx_SHAPE (source), mxn_SHAPE (native, subscription mxn_SHAPE, disabled),
# mxb_SHAPE (walbridge, slot mxb_SHAPE), filled alike; sets SRC NATIVE BRIDGE CONFIG.
prepare_drains() {
    local shape=$1 source
    SRC=$(with_db "$SRC_ADMIN" "mx_$shape")
    NATIVE=$(with_db "$TGT_ADMIN" "mxn_$shape")
    BRIDGE=$(with_db "$TGT_ADMIN" "mxb_$shape")
    q "$SRC_ADMIN" -c "CREATE DATABASE mx_$shape"
    q "$TGT_ADMIN" -c "CREATE DATABASE mxn_$shape" -c "CREATE DATABASE mxb_$shape"
    if [ "$shape" = pgbench ]; then
        "$PGBIN/pgbench" -i -s "$PGBENCH_SCALE" -q -I dtgvp "$SRC" >/dev/null 2>&1 || die "pgbench -i failed"
        q "$SRC" -c "ALTER TABLE pgbench_history ADD COLUMN hid bigserial PRIMARY KEY" \
                 -c "CREATE PUBLICATION mx_pub FOR TABLE pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history"
    else
        q "$SRC" -v seed="$SEED" -v toast="$([ "$shape" = toast ] && echo 1 || echo 0)" -f "$SQL/source.sql" >/dev/null
    fi
    "$PGBIN/pg_dump" -s -O -x $(for source in $(shape_sources "$shape"); do echo "-t public.$source"; done) "$SRC" | q "$NATIVE" >/dev/null
    for source in $(shape_sources "$shape"); do q "$SRC" -c "COPY $source TO STDOUT" | q "$NATIVE" -c "COPY $source FROM STDIN"; done
    create_targets "$shape" "$BRIDGE"
    fill_targets "$shape" "$SRC" "$BRIDGE"
    q "$SRC" -c "SELECT pg_create_logical_replication_slot('mxb_$shape', 'pgoutput')" >/dev/null
    q "$NATIVE" -c "SET client_min_messages = warning" -c "CREATE SUBSCRIPTION mxn_$shape CONNECTION '${SRC//\'/\'\'}' PUBLICATION mx_pub
        WITH (enabled = false, copy_data = false, create_slot = true, slot_name = 'mxn_$shape')"
    CONFIG=$(mktemp /tmp/walbridge-matrix.XXXXXX.yml)
    shape_config "$shape" "$SRC" "$BRIDGE" "mxb_$shape" skip >"$CONFIG"
}

drop_drains() {
    local shape=$1
    rm -f "$CONFIG"; CONFIG=
    q "$NATIVE" -c "DROP SUBSCRIPTION mxn_$shape" >/dev/null
    q "$SRC" -c "SELECT pg_drop_replication_slot('mxb_$shape')" >/dev/null
    q "$TGT_ADMIN" -c "DROP DATABASE mxn_$shape" -c "DROP DATABASE mxb_$shape"
    q "$SRC_ADMIN" -c "DROP DATABASE mx_$shape"
}

# queue SHAPE WORKLOAD: queues the workload on SRC; sets CHANGES and GOAL.
queue() {
    local shape=$1 workload=$2 w pids=() rows first
    case $workload in
    inserts | updates | mix)
        for ((w = 0; w < WORKERS; w++)); do
            case $workload in
                inserts) q "$SRC" -c "CALL mx_inserts($w, $WORKERS, $TXNS)" ;;
                updates) q "$SRC" -c "CALL mx_updates($w, $WORKERS, $TXNS, $SEED)" ;;
                mix) q "$SRC" -c "CALL mx_mix($w, $WORKERS, $TXNS, $SEED)" ;;
            esac >"$OUT/matrix-queue.$w" &
            pids+=($!)
        done
        for w in "${pids[@]}"; do wait "$w" || die "$shape/$workload: queuing the backlog failed"; done
        CHANGES=$(cat "$OUT"/matrix-queue.* | awk -F'|' '{ s += $1 } END { print s }')
        GOAL=$(cut -d'|' -f2 "$OUT"/matrix-queue.* | sed "s/.*/'&'::pg_lsn/" | paste -sd, |
            { read -r list; q "$SRC" -c "SELECT max(l) FROM unnest(ARRAY[$list]) l"; })
        rm -f "$OUT"/matrix-queue.* ;;
    big)
        rows=$BIG
        [ "$shape" != toast ] || rows=$((BIG / TOAST_DIVISOR))
        first=$(q "$SRC" -c "SELECT coalesce(max(id), 0) + 1 FROM accounts")
        CHANGES=$(psql "$SRC" -X -At -v ON_ERROR_STOP=1 -c "INSERT INTO accounts SELECT * FROM mx_rows($first, $first + $rows - 1)" | sed -n 's/^INSERT 0 //p')
        GOAL=$(q "$SRC" -c "SELECT pg_current_wal_lsn()") ;;
    tpcb-like)
        "$PGBIN/pgbench" -n -b tpcb-like -c 2 -j 2 -t "$PGBENCH_TXNS" "$SRC" >"$OUT/matrix-pgbench.txt" 2>&1 || die "pgbench failed (see bench/out/matrix-pgbench.txt)"
        CHANGES=$((2 * PGBENCH_TXNS * 4))
        GOAL=$(q "$SRC" -c "SELECT pg_current_wal_lsn()") ;;
    esac
    for source in $(shape_sources "$shape"); do q "$SRC" -c "VACUUM ANALYZE $source"; done
    log "$shape/$workload: queued $CHANGES changes, goal $GOAL"
}

drain() {
    local shape=$1 workload=$2 row="$1/$2"
    queue "$shape" "$workload"
    ROWS+=("$row")
    R_CHANGES[$row]=$CHANGES
    run_native "$row" "mxn_$shape" "$shape" "$SRC" "$NATIVE" "$GOAL"
    run_bridge "$row" "$CONFIG" "SELECT applied_lsn >= '$GOAL' FROM walbridge.progress WHERE slot = 'mxb_$shape'" check_bridge "$shape" "$SRC" "$BRIDGE"
}

# ---------------------------------------------------------------------------------------------
# Backfill: per shape a source with BACKFILL rows, the pipe into one target database, walbridge into another.

backfill() {
    local shape=$1 row="$1/backfill" rows=$BACKFILL began pipe
    [ "$shape" != toast ] || rows=$((BACKFILL / TOAST_DIVISOR))
    SRC=$(with_db "$SRC_ADMIN" "mxf_$shape")
    pipe=$(with_db "$TGT_ADMIN" "mxfp_$shape")
    BRIDGE=$(with_db "$TGT_ADMIN" "mxfb_$shape")
    q "$SRC_ADMIN" -c "CREATE DATABASE mxf_$shape"
    q "$TGT_ADMIN" -c "CREATE DATABASE mxfp_$shape" -c "CREATE DATABASE mxfb_$shape"
    q "$SRC" -v seed="$rows" -v toast="$([ "$shape" = toast ] && echo 1 || echo 0)" -f "$SQL/source.sql" >/dev/null
    create_targets "$shape" "$pipe"
    create_targets "$shape" "$BRIDGE"
    ROWS+=("$row")
    R_CHANGES[$row]=$rows
    R_BASE_NAME[$row]=pipe
    checkpoint
    began=$EPOCHREALTIME
    fill_targets "$shape" "$SRC" "$pipe"
    R_BASE[$row]=$(calc "printf \"%.2f\", $EPOCHREALTIME - $began")
    R_BASE_OK[$row]=$(check_bridge "$shape" "$SRC" "$pipe")
    log "$row: pipe ${R_BASE[$row]} s, ${R_BASE_OK[$row]}"
    CONFIG=$(mktemp /tmp/walbridge-matrix.XXXXXX.yml)
    shape_config "$shape" "$SRC" "$BRIDGE" "mxf_$shape" auto >"$CONFIG"
    run_bridge "$row" "$CONFIG" "SELECT state = 'done' FROM walbridge.backfill WHERE slot = 'mxf_$shape'" check_bridge "$shape" "$SRC" "$BRIDGE"
    rm -f "$CONFIG"; CONFIG=
    q "$SRC" -c "SELECT pg_drop_replication_slot('mxf_$shape')" >/dev/null
    q "$TGT_ADMIN" -c "DROP DATABASE mxfp_$shape" -c "DROP DATABASE mxfb_$shape"
    q "$SRC_ADMIN" -c "DROP DATABASE mxf_$shape"
}

# ---------------------------------------------------------------------------------------------

for part in $PARTS; do
    case $part in
    drains)
        for shape in $SHAPES; do
            log "$shape: preparing the drains ($SEED rows)"
            prepare_drains "$shape"
            for workload in $WORKLOADS; do drain "$shape" "$workload"; done
            drop_drains "$shape"
        done ;;
    pgbench)
        log "pgbench: preparing (scale $PGBENCH_SCALE)"
        prepare_drains pgbench
        drain pgbench tpcb-like
        drop_drains pgbench ;;
    backfill)
        for shape in $SHAPES; do log "$shape: backfill"; backfill "$shape"; done ;;
    *) die "unknown part $part (drains, pgbench, backfill)" ;;
    esac
done

report
for row in "${ROWS[@]}"; do
    [ "${R_BASE_OK[$row]}" = MATCH ] && [ "${R_WB_OK[$row]}" = MATCH ] || exit 1
done
