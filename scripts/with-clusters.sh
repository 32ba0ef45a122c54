#!/usr/bin/env bash
# Runs a command beside two throwaway PostgreSQL 15 clusters on free loopback ports:
# a source and a target, both wal_level=logical (the target is the source of reverse replication). The command sees their connection strings in
# WALBRIDGE_TEST_SOURCE and WALBRIDGE_TEST_TARGET; both clusters are stopped and removed when
# it ends, whether it passed or not.
#
#   scripts/with-clusters.sh swift test
#   WALBRIDGE_PG_FSYNC=on scripts/with-clusters.sh bench/decoder.sh   # durable settings
#
# Installs postgresql-15 and libpq-dev with apt-get when they are missing (as root).
set -euo pipefail

. "$(dirname "$0")/ensure-packages.sh"

# Runs a PostgreSQL binary as the postgres user when we are root (the server refuses root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    echo "with-clusters: no free port found" >&2
    exit 1
}

# start_cluster NAME PORT WAL_LEVEL: initialises and starts a cluster under $WORK/NAME.
start_cluster() {
    local name=$1 port=$2 wal_level=$3 data="$WORK/$1"
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$WORK/$name.initdb.log" 2>&1 || {
        cat "$WORK/$name.initdb.log" >&2
        exit 1
    }
    cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$WORK'
wal_level = $wal_level
max_wal_senders = 64
max_replication_slots = 64
max_connections = 200
fsync = ${WALBRIDGE_PG_FSYNC:-off}

full_page_writes = ${WALBRIDGE_PG_FSYNC:-off}
shared_buffers = 256MB
max_wal_size = 4GB
log_min_messages = warning
EOF
    # One role (walbridge_pw) must give a password, so that tests can check a wrong one.
    cat >"$data/pg_hba.conf" <<EOF
local all all trust
local replication all trust
host all walbridge_pw 127.0.0.1/32 scram-sha-256
host replication walbridge_pw 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
EOF
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$WORK/$name.log" -w -t 60 start >/dev/null || {
        cat "$WORK/$name.log" >&2
        exit 1
    }
    STARTED+=("$data")
}

cleanup() {
    local status=$?
    for data in "${STARTED[@]}"; do
        as_pg "$PG_BIN/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    done
    if [ "$status" != 0 ] && [ -n "${WORK:-}" ]; then
        for log in "$WORK"/*.log; do
            [ -s "$log" ] && { echo "--- last lines of $log" >&2; tail -n 20 "$log" >&2; }
        done
    fi
    [ -n "${WORK:-}" ] && rm -rf "$WORK"
    exit "$status"
}

[ $# -gt 0 ] || { echo "usage: scripts/with-clusters.sh COMMAND [ARG...]" >&2; exit 2; }
ensure_packages
STARTED=()
WORK=$(mktemp -d /tmp/walbridge-clusters.XXXXXX)
chmod 755 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres: "$WORK"
trap cleanup EXIT
trap 'exit 130' INT TERM

source_port=$(free_port)
start_cluster source "$source_port" logical
target_port=$(free_port)
while [ "$target_port" = "$source_port" ]; do target_port=$(free_port); done
start_cluster target "$target_port" logical

export WALBRIDGE_TEST_SOURCE="host=127.0.0.1 port=$source_port user=postgres dbname=postgres"
export WALBRIDGE_TEST_TARGET="host=127.0.0.1 port=$target_port user=postgres dbname=postgres"
export WALBRIDGE_TEST_PGBIN="$PG_BIN"
echo "with-clusters: source on port $source_port (wal_level=logical), target on port $target_port" >&2
"$@"
