#!/usr/bin/env bash
# Re-captures the pgoutput fixtures in Tests/PGOutputTests/Fixtures from a real PostgreSQL 15:
#
#   scripts/with-clusters.sh scripts/capture-fixtures.sh
#
# Each scenario gets its own logical slot, runs its workload, and stores what
# pg_logical_slot_peek_binary_changes returns, one message per line: "LSN XID HEX".
# LSNs, xids, OIDs and timestamps change on every capture; the tests only rely on the
# values the workloads write and on the relations between messages.
#
# Prepared transactions need max_prepared_transactions > 0, which only a restart can set;
# when the source cluster has 0, the two-phase scenarios run on an extra throwaway cluster
# that this script starts (and removes) itself.
set -euo pipefail

: "${WALBRIDGE_TEST_SOURCE:?run me under scripts/with-clusters.sh}"
PG_BIN=${WALBRIDGE_TEST_PGBIN:-/usr/lib/postgresql/15/bin}
FIXTURES="$(cd "$(dirname "$0")/.." && pwd)/Tests/PGOutputTests/Fixtures"
mkdir -p "$FIXTURES"
# with-clusters.sh runs with synchronous_commit=off, and the slot functions decode only WAL
# that is flushed: without this a workload's last commits may not be seen yet. UTC makes
# timestamptz values in the fixtures independent of the machine's zone.
export PGOPTIONS="-c synchronous_commit=on -c TimeZone=UTC"

# sql CONNINFO: runs the SQL on standard input in one session and stops at the first error.
sql() {
    psql "$1" -X -q -At -v ON_ERROR_STOP=1 >/dev/null
}

# capture CONNINFO SLOT FILE OPTION...: stores the slot's pending changes, decoded with the
# pgoutput options given as 'name' 'value' pairs, in FILE; then drops the slot.
capture() {
    local conn=$1 slot=$2 file=$3
    shift 3
    local options=""
    while [ $# -gt 0 ]; do
        options+=", '$1', '$2'"
        shift 2
    done
    psql "$conn" -X -q -At -F ' ' -v ON_ERROR_STOP=1 >"$FIXTURES/$file" <<SQL
SET logical_decoding_work_mem = '64kB';
SELECT lsn, coalesce(xid::text, '0'), encode(data, 'hex')
FROM pg_logical_slot_peek_binary_changes('$slot', NULL, NULL,
     'publication_names', 'pub', 'messages', 'true'$options);
SQL
    sql "$conn" <<<"SELECT pg_drop_replication_slot('$slot');"
    echo "capture-fixtures: $file: $(wc -l <"$FIXTURES/$file") messages, $(wc -c <"$FIXTURES/$file") bytes" >&2
}

# slot CONNINFO NAME [TWO_PHASE]: creates a pgoutput slot.
slot() {
    sql "$1" <<<"SELECT pg_create_logical_replication_slot('$2', 'pgoutput', false, ${3:-false});"
}

# ballast: SQL that adds about 80 kB of changes to an unpublished table inside the current
# transaction, so that logical_decoding_work_mem (64 kB) overflows and the transaction is
# streamed without filling the fixture with published changes.
BALLAST="INSERT INTO ballast SELECT g, repeat('b', 1900) FROM generate_series(1, 40) g;"

SRC=$WALBRIDGE_TEST_SOURCE

sql "$SRC" <<'SQL'
DROP PUBLICATION IF EXISTS pub;
CREATE PUBLICATION pub;
CREATE TABLE ballast (n int, filler text);
SQL

# --- Begin, Insert (with NULLs), Update without and with a key change, Delete (K) --------
sql "$SRC" <<'SQL'
CREATE TABLE users (id bigint PRIMARY KEY, name text, email varchar(20), balance numeric(10,2), active boolean);
ALTER PUBLICATION pub ADD TABLE users;
SQL
slot "$SRC" s_dml
sql "$SRC" <<'SQL'
INSERT INTO users VALUES (1, 'alice', 'alice@example.com', 12.50, true), (2, 'bob', NULL, NULL, NULL);
UPDATE users SET name = 'alice b' WHERE id = 1;
UPDATE users SET id = 3 WHERE id = 2;
DELETE FROM users WHERE id = 3;
SQL
capture "$SRC" s_dml dml.txt proto_version 1

# --- REPLICA IDENTITY FULL: Update and Delete with O old tuples ---------------------------
sql "$SRC" <<'SQL'
CREATE TABLE accounts (id int, owner text, note text);
ALTER TABLE accounts REPLICA IDENTITY FULL;
INSERT INTO accounts VALUES (7, 'carol', NULL);
ALTER PUBLICATION pub ADD TABLE accounts;
SQL
slot "$SRC" s_full
sql "$SRC" <<'SQL'
UPDATE accounts SET owner = 'dave' WHERE id = 7;
DELETE FROM accounts WHERE id = 7;
SQL
capture "$SRC" s_full identity-full.txt proto_version 1

# --- REPLICA IDENTITY USING INDEX and NOTHING ---------------------------------------------
sql "$SRC" <<'SQL'
CREATE TABLE devices (serial text NOT NULL, vendor text NOT NULL, label text);
CREATE UNIQUE INDEX devices_serial_vendor ON devices (vendor, serial);
ALTER TABLE devices REPLICA IDENTITY USING INDEX devices_serial_vendor;
CREATE TABLE events (id int, what text);
ALTER TABLE events REPLICA IDENTITY NOTHING;
INSERT INTO devices VALUES ('SN-1', 'acme', 'lab');
ALTER PUBLICATION pub ADD TABLE devices, events;
SQL
slot "$SRC" s_index
sql "$SRC" <<'SQL'
UPDATE devices SET serial = 'SN-2' WHERE serial = 'SN-1';
DELETE FROM devices WHERE serial = 'SN-2';
INSERT INTO events VALUES (1, 'boot');
SQL
capture "$SRC" s_index identity-index.txt proto_version 1

# --- Type messages (enum, domain) and type modifiers ----------------------------------------
sql "$SRC" <<'SQL'
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE TABLE moods (id int PRIMARY KEY, feeling mood, score positive_int, price numeric(10,2),
                    code varchar(20), tags text[], at timestamptz);
ALTER PUBLICATION pub ADD TABLE moods;
SQL
slot "$SRC" s_types
sql "$SRC" <<'SQL'
INSERT INTO moods VALUES (1, 'happy', 42, 1234.5, 'abc', '{x,y}', '2024-01-02 03:04:05.123456+00');
SQL
capture "$SRC" s_types types.txt proto_version 1

# --- Update with an unchanged TOASTed column ----------------------------------------------
# The ~10 kB value is stored uncompressed out of line (STORAGE EXTERNAL); it is inserted
# before the slot exists, so only the update (with 'u' for it) is in the fixture.
sql "$SRC" <<'SQL'
CREATE TABLE documents (id int PRIMARY KEY, title text, body text);
ALTER TABLE documents ALTER COLUMN body SET STORAGE EXTERNAL;
INSERT INTO documents SELECT 1, 'draft', string_agg(md5(g::text), '') FROM generate_series(1, 320) g;
ALTER PUBLICATION pub ADD TABLE documents;
SQL
slot "$SRC" s_toast
sql "$SRC" <<'SQL'
UPDATE documents SET title = 'final' WHERE id = 1;
SQL
capture "$SRC" s_toast toast.txt proto_version 1

# --- Truncate: several relations, CASCADE and RESTART IDENTITY ------------------------------
sql "$SRC" <<'SQL'
CREATE TABLE parents (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
CREATE TABLE children (id int PRIMARY KEY, parent int REFERENCES parents);
CREATE TABLE logs (line text);
ALTER PUBLICATION pub ADD TABLE parents, children, logs;
SQL
slot "$SRC" s_truncate
sql "$SRC" <<'SQL'
TRUNCATE parents RESTART IDENTITY CASCADE;
TRUNCATE logs;
SQL
capture "$SRC" s_truncate truncate.txt proto_version 1

# --- Logical decoding messages --------------------------------------------------------------
slot "$SRC" s_messages
sql "$SRC" <<'SQL'
SELECT pg_logical_emit_message(false, 'walbridge.test', 'not in a transaction');
BEGIN;
SELECT pg_logical_emit_message(true, 'walbridge.test', 'in a transaction');
INSERT INTO logs VALUES ('after message');
COMMIT;
SQL
capture "$SRC" s_messages messages.txt proto_version 1

# --- Origin ---------------------------------------------------------------------------------
sql "$SRC" <<<"SELECT pg_replication_origin_create('upstream_a');"
slot "$SRC" s_origin
sql "$SRC" <<'SQL'
SELECT pg_replication_origin_session_setup('upstream_a');
BEGIN;
SELECT pg_replication_origin_xact_setup('0/ABCDEF01', '2024-05-06 07:08:09+00');
INSERT INTO logs VALUES ('replicated');
COMMIT;
SELECT pg_replication_origin_session_reset();
SQL
capture "$SRC" s_origin origin.txt proto_version 1

# --- Binary tuple values ----------------------------------------------------------------------
sql "$SRC" <<'SQL'
CREATE TABLE samples (id int PRIMARY KEY, big bigint, label text, ok boolean, raw bytea, feeling mood, missing int);
ALTER PUBLICATION pub ADD TABLE samples;
SQL
slot "$SRC" s_binary
sql "$SRC" <<'SQL'
INSERT INTO samples VALUES (258, -2, 'hi', true, '\xdeadbeef', 'ok', NULL);
SQL
capture "$SRC" s_binary binary.txt proto_version 1 binary true

# --- Protocol 2 streaming: commit, abort, subtransaction abort ------------------------------
sql "$SRC" <<'SQL'
CREATE TABLE stream_items (id int PRIMARY KEY, label text);
ALTER PUBLICATION pub ADD TABLE stream_items;
SQL
slot "$SRC" s_stream
sql "$SRC" <<SQL
BEGIN;
INSERT INTO stream_items VALUES (1, 'one'), (2, 'two');
$BALLAST
INSERT INTO stream_items VALUES (3, 'three');
$BALLAST
INSERT INTO stream_items VALUES (4, 'four');
SELECT pg_logical_emit_message(true, 'walbridge.stream', 'streamed');
COMMIT;

BEGIN;
INSERT INTO stream_items VALUES (10, 'ten');
$BALLAST
ROLLBACK;

BEGIN;
INSERT INTO stream_items VALUES (20, 'kept');
SAVEPOINT sp;
INSERT INTO stream_items VALUES (21, 'rolled back');
$BALLAST
ROLLBACK TO SAVEPOINT sp;
INSERT INTO stream_items VALUES (22, 'kept too');
COMMIT;
SQL
capture "$SRC" s_stream streaming.txt proto_version 2 streaming on

# --- Protocol 3 two-phase commit (needs max_prepared_transactions > 0) -----------------------
TWO_PC=$SRC
if [ "$(psql "$SRC" -X -At -c 'SHOW max_prepared_transactions')" = 0 ]; then
    EXTRA=$(mktemp -d /tmp/walbridge-2pc.XXXXXX)
    chmod 755 "$EXTRA"
    as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    [ "$(id -u)" = 0 ] && chown postgres: "$EXTRA"
    stop_extra() {
        as_pg "$PG_BIN/pg_ctl" -D "$EXTRA/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$EXTRA"
    }
    trap stop_extra EXIT
    as_pg "$PG_BIN/initdb" -D "$EXTRA/data" -U postgres --auth=trust >"$EXTRA/initdb.log" 2>&1 ||
        { cat "$EXTRA/initdb.log" >&2; exit 1; }
    as_pg "$PG_BIN/pg_ctl" -D "$EXTRA/data" -l "$EXTRA/server.log" -w -t 60 start -o \
        "-c listen_addresses='' -c unix_socket_directories='$EXTRA' -c port=5432 -c wal_level=logical -c max_prepared_transactions=10 -c fsync=off" \
        >/dev/null || { cat "$EXTRA/server.log" >&2; exit 1; }
    TWO_PC="host=$EXTRA port=5432 user=postgres dbname=postgres"
    echo "capture-fixtures: max_prepared_transactions is 0 on the source; two-phase scenarios run on an extra cluster" >&2
    sql "$TWO_PC" <<'SQL'
CREATE PUBLICATION pub;
CREATE TABLE ballast (n int, filler text);
SQL
fi

sql "$TWO_PC" <<'SQL'
CREATE TABLE orders (id int PRIMARY KEY, item text);
ALTER PUBLICATION pub ADD TABLE orders;
SQL
slot "$TWO_PC" s_twophase true
sql "$TWO_PC" <<'SQL'
BEGIN;
INSERT INTO orders VALUES (1, 'committed later');
PREPARE TRANSACTION 'gid-commit';
COMMIT PREPARED 'gid-commit';
BEGIN;
INSERT INTO orders VALUES (2, 'rolled back later');
PREPARE TRANSACTION 'gid-rollback';
ROLLBACK PREPARED 'gid-rollback';
SQL
capture "$TWO_PC" s_twophase two-phase.txt proto_version 3 two_phase on

slot "$TWO_PC" s_streamprepare true
sql "$TWO_PC" <<SQL
BEGIN;
INSERT INTO orders VALUES (3, 'streamed and prepared');
$BALLAST
INSERT INTO orders VALUES (4, 'second segment');
PREPARE TRANSACTION 'gid-stream';
COMMIT PREPARED 'gid-stream';
SQL
capture "$TWO_PC" s_streamprepare stream-prepare.txt proto_version 3 two_phase on streaming on
