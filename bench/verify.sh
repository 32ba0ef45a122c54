#!/usr/bin/env bash
# Verify: `walbridge verify` of a synced pair against dumping both sides in key order and comparing the dumps.
#
#   scripts/with-clusters.sh bench/verify.sh
#
# The source database vfbench holds BENCH_ROWS legacy users (the seed's users table, an address on every
# second one); the target database vftarget holds users_v2 and addresses filled from it by COPY, with
# BENCH_PLANTED rows then changed in users_v2. Two ways to find the difference, each timed:
#   dump       `COPY (SELECT <mapping> … ORDER BY key) TO STDOUT` from both servers into files, then `cmp`
#              (every row crosses the network; it says that the sides differ, not where)
#   walbridge  `walbridge verify` (full mode: bucket hashes on each server, then the differing rows)
# It prints seconds and rows/s for both, their ratio (dump seconds / verify seconds), verify's peak RSS
# and the mismatches it reported (must equal BENCH_PLANTED), and `verify --sample 1000`'s time; the
# table goes to bench/out/verify.txt. The issue's goal: full verification of 1,000,000 rows in under 30 s.
#
# Environment: BENCH_ROWS (1000000), BENCH_PLANTED (10), WALBRIDGE_BIN (else a release build).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROWS=${BENCH_ROWS:-1000000}
PLANTED=${BENCH_PLANTED:-10}

BENCH_NAME=verify
. "$ROOT/bench/common.sh"

SRC=$(with_db "$WALBRIDGE_TEST_SOURCE" vfbench)
TGT=$(with_db "$WALBRIDGE_TEST_TARGET" vftarget)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

BIN=$(walbridge_bin)

log "creating vfbench with $ROWS users and vftarget with the mapped rows, $PLANTED of them changed"
q "$WALBRIDGE_TEST_SOURCE" -c "DROP DATABASE IF EXISTS vfbench" -c "CREATE DATABASE vfbench"
q "$WALBRIDGE_TEST_TARGET" -c "DROP DATABASE IF EXISTS vftarget" -c "CREATE DATABASE vftarget"
legacy_users_sql "$ROWS" | q "$SRC"
q "$TGT" -c "$NEW_USERS_SCHEMA"
q "$SRC" -c "COPY (SELECT id, name, email FROM users) TO STDOUT" | q "$TGT" -c "COPY users_v2 FROM STDIN"
q "$SRC" -c "COPY (SELECT id, address_street, address_city, address_postal_code FROM users WHERE address_street IS NOT NULL) TO STDOUT" |
    q "$TGT" -c "COPY addresses FROM STDIN"
q "$TGT" -c "UPDATE users_v2 SET full_name = full_name || ' (changed)' WHERE id IN (SELECT (g * 7919) % $ROWS + 1 FROM generate_series(1, $PLANTED) g)" \
         -c "VACUUM ANALYZE users_v2" -c "VACUUM ANALYZE addresses"

CONFIG="$WORK/walbridge.yml"
users_config "$SRC" "$TGT" walbridge_vfbench >"$CONFIG"

log "dump: both sides in key order to files, then cmp"
start=$EPOCHREALTIME
q "$SRC" -c "COPY (SELECT id, name, email FROM users ORDER BY id) TO STDOUT" >"$WORK/s1" &
q "$TGT" -c "COPY (SELECT id, full_name, email FROM users_v2 ORDER BY id) TO STDOUT" >"$WORK/t1" &
q "$SRC" -c "COPY (SELECT id, address_street, address_city, address_postal_code FROM users WHERE address_street IS NOT NULL ORDER BY id) TO STDOUT" >"$WORK/s2" &
q "$TGT" -c "COPY (SELECT user_id, street, city, postal_code FROM addresses ORDER BY user_id) TO STDOUT" >"$WORK/t2" &
wait
DUMP_RESULT=same
cmp -s "$WORK/s1" "$WORK/t1" || DUMP_RESULT=differ
cmp -s "$WORK/s2" "$WORK/t2" || DUMP_RESULT=differ
DUMP_S=$(calc "printf \"%.2f\", $EPOCHREALTIME - $start")
rm -f "$WORK"/s? "$WORK"/t?

log "walbridge verify (full)"
start=$EPOCHREALTIME
/usr/bin/time -f %M -o "$WORK/rss" "$BIN" verify --config "$CONFIG" >"$OUT/verify-walbridge.out" 2>"$OUT/verify-walbridge.err" || true
VERIFY_S=$(calc "printf \"%.2f\", $EPOCHREALTIME - $start")
RSS_MB=$(calc "printf \"%.0f\", $(tail -1 "$WORK/rss") / 1024")
FOUND=$(sed -nE 's/.*mismatches: ([0-9]+)$/\1/p' "$OUT/verify-walbridge.out")

log "walbridge verify --sample 1000"
start=$EPOCHREALTIME
"$BIN" verify --config "$CONFIG" --sample 1000 >"$OUT/verify-sample.out" 2>&1 || true
SAMPLE_S=$(calc "printf \"%.2f\", $EPOCHREALTIME - $start")

TOTAL=$(q "$SRC" -c "SELECT count(*) + count(address_street) FROM users")
{
    echo
    echo "verify of $ROWS users ($TOTAL mapped rows in users_v2 and addresses, $PLANTED changed), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), PostgreSQL $(q "$SRC" -c 'SHOW server_version')"
    printf '%-18s %9s %12s %-26s %8s\n' way seconds "rows/s" result "RSS MiB"
    printf '%-18s %9s %12s %-26s %8s\n' "dump and cmp" "$DUMP_S" "$(calc "printf \"%.0f\", $TOTAL / $DUMP_S")" "$DUMP_RESULT" -
    printf '%-18s %9s %12s %-26s %8s\n' "walbridge verify" "$VERIFY_S" "$(calc "printf \"%.0f\", $TOTAL / $VERIFY_S")" "${FOUND:-?} mismatches (of $PLANTED)" "$RSS_MB"
    echo "ratio dump/verify: $(calc "printf \"%.2f\", $DUMP_S / $VERIFY_S"); verify --sample 1000: $SAMPLE_S s; goal: 1,000,000 rows in under 30 s"
} | tee "$OUT/verify.txt"
q "$WALBRIDGE_TEST_TARGET" -c "DROP DATABASE vftarget"
q "$WALBRIDGE_TEST_SOURCE" -c "DROP DATABASE vfbench"
[ "${FOUND:-}" = "$PLANTED" ]
