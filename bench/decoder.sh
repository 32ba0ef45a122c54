#!/usr/bin/env bash
# Benchmarks the pgoutput decoder against PostgreSQL's own pgoutput on the same messages:
#
#   scripts/with-clusters.sh bench/decoder.sh
#
# On the source cluster it fills a users table with inserts and updates (1,000,000 change
# messages by default: BENCH_ROWS inserts plus as many updates, in transactions of BENCH_BATCH
# rows), then times pg_logical_slot_peek_binary_changes producing those messages (the
# PostgreSQL baseline: WAL decoding plus pgoutput, best of 3), captures them once into
# bench/out/messages.copy (binary COPY, one XLogData CopyData payload per row), builds
# decoder-bench in release mode and runs it on the capture.
# SWIFT_SCRATCH_PATH picks the build directory (default .build).
set -euo pipefail

: "${WALBRIDGE_TEST_SOURCE:?run me under scripts/with-clusters.sh}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/bench/out"
SCRATCH=${SWIFT_SCRATCH_PATH:-$ROOT/.build}
ROWS=${BENCH_ROWS:-500000}
BATCH=${BENCH_BATCH:-10000}
mkdir -p "$OUT"
# Slot functions only decode flushed WAL: make sure commits are flushed whatever the server default.
export PGOPTIONS="-c synchronous_commit=on"

psql_src() { psql "$WALBRIDGE_TEST_SOURCE" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

echo "bench: building decoder-bench (release)" >&2
swift build -c release --scratch-path "$SCRATCH" --product decoder-bench >&2
BENCH="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/decoder-bench"

echo "bench: writing $ROWS inserts and $ROWS updates in transactions of $BATCH rows" >&2
psql_src <<'SQL' >/dev/null
DROP TABLE IF EXISTS users;
CREATE TABLE users (id bigint PRIMARY KEY, name text, email text, address_street text, address_city text, created_at timestamptz);
DROP PUBLICATION IF EXISTS bench_pub;
CREATE PUBLICATION bench_pub FOR TABLE users;
SELECT pg_create_logical_replication_slot('bench', 'pgoutput');
SQL
for ((start = 1; start <= ROWS; start += BATCH)); do
    end=$((start + BATCH - 1 < ROWS ? start + BATCH - 1 : ROWS))
    echo "INSERT INTO users SELECT g, 'User ' || g, 'user' || g || '@example.com', g || ' Main Street', 'Springfield', '2024-01-01'::timestamptz + g * interval '1 second' FROM generate_series($start, $end) g;"
done | psql_src >/dev/null
for ((start = 1; start <= ROWS; start += BATCH)); do
    end=$((start + BATCH - 1 < ROWS ? start + BATCH - 1 : ROWS))
    echo "UPDATE users SET email = 'new.' || email, address_city = 'Shelbyville' WHERE id BETWEEN $start AND $end;"
done | psql_src >/dev/null

OPTIONS="'proto_version', '1', 'publication_names', 'bench_pub'"
best=""
for run in 1 2 3; do
    began=$EPOCHREALTIME
    count=$(psql_src -c "SELECT count(*) FROM pg_logical_slot_peek_binary_changes('bench', NULL, NULL, $OPTIONS)")
    took=$(awk -v a="$EPOCHREALTIME" -v b="$began" 'BEGIN { printf "%.3f", a - b }')
    echo "bench: PostgreSQL peek $run: $count messages in ${took}s" >&2
    best=$(awk -v t="$took" -v b="${best:-$took}" 'BEGIN { print (t < b ? t : b) }')
done
pg_rate=$(awk -v n="$count" -v t="$best" 'BEGIN { printf "%.0f", n / t }')

echo "bench: capturing the messages to $OUT/messages.copy" >&2
psql_src -c "COPY (
    SELECT 'w'::bytea || int8send((lsn - '0/0')::bigint) || int8send((lsn - '0/0')::bigint)
           || int8send(((extract(epoch FROM now()) - 946684800) * 1000000)::bigint) || data
    FROM pg_logical_slot_peek_binary_changes('bench', NULL, NULL, $OPTIONS)
) TO STDOUT WITH (FORMAT binary)" >"$OUT/messages.copy"
psql_src -c "SELECT pg_drop_replication_slot('bench')" >/dev/null

echo "bench: decoding on one core" >&2
if [ -x /usr/bin/time ]; then
    /usr/bin/time -v -o "$OUT/time.txt" "$BENCH" "$OUT/messages.copy" --postgres "$pg_rate"
    awk -F': ' '/Maximum resident set size/ { printf "peak RSS (time -v):  %.1f MiB\n", $2 / 1024 }' "$OUT/time.txt"
else
    "$BENCH" "$OUT/messages.copy" --postgres "$pg_rate"
fi
