# Shell helpers shared by the benchmarks; source it after setting BENCH_NAME (the log prefix, and the
# script's name) and ROOT. It checks that the script runs beside the clusters and sets OUT (bench/out).

: "${WALBRIDGE_TEST_SOURCE:?run me as: scripts/with-clusters.sh bench/$BENCH_NAME.sh}"
: "${WALBRIDGE_TEST_TARGET:?run me as: scripts/with-clusters.sh bench/$BENCH_NAME.sh}"
OUT="$ROOT/bench/out"
mkdir -p "$OUT"

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

# legacy_users_sql ROWS: SQL that creates the seed's legacy users table with ROWS users (an address on
# every second one) and analyses it.
legacy_users_sql() {
    cat <<SQL
CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email text UNIQUE,
                    address_street text, address_city text, address_postal_code text, bio text);
INSERT INTO users (id, name, email, address_street, address_city, address_postal_code)
SELECT g, 'user ' || g, 'u' || g || '@example.com', CASE WHEN g % 2 = 0 THEN g || ' Main St' END,
       CASE WHEN g % 2 = 0 THEN 'Springfield' END, CASE WHEN g % 2 = 0 THEN lpad((g % 99999)::text, 5, '0') END
FROM generate_series(1, $1) g;
VACUUM ANALYZE users;
SQL
}

# The seed's new tables for users: users_v2 and addresses.
NEW_USERS_SCHEMA="CREATE TABLE users_v2 (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE);
CREATE TABLE addresses (user_id bigint PRIMARY KEY, street text, city text, postal_code text);"

# users_config SOURCE TARGET SLOT: a configuration with the seed mapping of users (rename and address split).
users_config() {
    cat <<YML
source: "$1"
target: "$2"
slot: $3
publication: $3
tables:
  public.users:
    - into: public.users_v2
      key: [id]
      columns: {id: id, full_name: name, email: email}
    - into: public.addresses
      key: [user_id]
      when: address_street IS NOT NULL
      columns: {user_id: id, street: address_street, city: address_city, postal_code: address_postal_code}
YML
}
