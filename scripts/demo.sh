#!/usr/bin/env bash
# The local demo: builds walbridge, starts a throwaway legacy database (the seed documents' users
# and products tables) and a new one, and shows the bridge turning the application's writes to the
# legacy tables into the new schema (users.name → users_v2.full_name, address columns → addresses,
# integer cents → DECIMAL dollars), with `walbridge tail` printing the changes as they commit.
# Everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${WALBRIDGE_TEST_SOURCE:-}" ]; then
    exec scripts/with-clusters.sh "$0" "$@"
fi

echo "== building walbridge"
swift build --product walbridge >/dev/null
bin=$(swift build --show-bin-path)/walbridge
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

legacy() { psql "$WALBRIDGE_TEST_SOURCE" -v ON_ERROR_STOP=1 -qAt -c "$1" >/dev/null; }
new() { psql "$WALBRIDGE_TEST_TARGET" -v ON_ERROR_STOP=1 -q -c "$1"; }

echo "== legacy database: users (name, address columns) and products (price in integer cents)"
legacy "CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email text UNIQUE,
                            address_street text, address_city text, address_postal_code text)"
legacy "CREATE TABLE products (id bigserial PRIMARY KEY, name text NOT NULL, price integer NOT NULL)"
echo "== 50,000 legacy users and 5,000 products exist before the bridge starts"
legacy "INSERT INTO users (id, name, email, address_street, address_city, address_postal_code)
        SELECT g, 'user ' || g, 'u' || g || '@example.com', CASE WHEN g % 2 = 0 THEN g || ' Main St' END,
               CASE WHEN g % 2 = 0 THEN 'Springfield' END, CASE WHEN g % 2 = 0 THEN '12345' END
        FROM generate_series(1001, 51000) g;
        INSERT INTO products (id, name, price) SELECT g, 'product ' || g, g * 7 FROM generate_series(1001, 6000) g"
echo "== new database: users_v2 (full_name), addresses, products_v2 (DECIMAL dollars)"
new "CREATE TABLE users_v2 (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE);
     CREATE TABLE addresses (user_id bigint PRIMARY KEY, street text, city text, postal_code text);
     CREATE TABLE products_v2 (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL)" >/dev/null

export WALBRIDGE_SOURCE="$WALBRIDGE_TEST_SOURCE" WALBRIDGE_TARGET="$WALBRIDGE_TEST_TARGET"
cp examples/walbridge.yml "$work/walbridge.yml"
echo "== walbridge check --config examples/walbridge.yml (connection strings from WALBRIDGE_SOURCE / WALBRIDGE_TARGET)"
"$bin" check --config "$work/walbridge.yml" | tail -3
"$bin" run --config "$work/walbridge.yml" --quiet 2>"$work/run.log" &
pids+=($!)
for _ in $(seq 1 100); do
    [ "$(psql "$WALBRIDGE_TEST_SOURCE" -qAtc "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'walbridge_shop' AND active")" = 1 ] && break
    sleep 0.1
done
"$bin" tail --publication walbridge_shop --format text --quiet >"$work/tail.out" 2>"$work/tail.log" &
pids+=($!)
sleep 1

echo "== the application writes only to the legacy tables"
legacy "INSERT INTO users (name, email, address_street, address_city, address_postal_code)
        VALUES ('Ada Lovelace', 'ada@example.com', '12 St James''s Square', 'London', 'SW1Y 4JH'),
               ('李雷', 'lilei@example.com', NULL, NULL, NULL)"
legacy "INSERT INTO products (name, price) VALUES ('Analytical Engine', 1999), ('Punch cards', 250)"
legacy "BEGIN; UPDATE users SET name = 'Augusta Ada King' WHERE id = 1; UPDATE products SET price = price + 100 WHERE id < 1000; COMMIT"
legacy "UPDATE users SET address_street = '1 Renmin Rd', address_city = 'Beijing' WHERE id = 2"
legacy "DELETE FROM products WHERE id = 2"
for _ in $(seq 1 300); do
    [ "$(psql "$WALBRIDGE_TEST_TARGET" -qAtc "SELECT count(*) FROM walbridge.backfill WHERE state = 'done'" 2>/dev/null)" = 2 ] && break
    sleep 0.1
done

echo "== walbridge tail: each committed change, in commit order"
cat "$work/tail.out"
echo "== the new schema, filled by walbridge run: the existing rows by its backfill, the new writes from the log"
new "SELECT * FROM users_v2 WHERE id < 1000 ORDER BY id"
new "SELECT * FROM addresses WHERE user_id < 1000 ORDER BY user_id"
new "SELECT * FROM products_v2 WHERE id < 1000 ORDER BY id"
new "SELECT (SELECT count(*) FROM users_v2) AS users_v2, (SELECT count(*) FROM addresses) AS addresses,
            (SELECT count(*) FROM products_v2) AS products_v2"
new "SELECT source_table, state, rows_copied FROM walbridge.backfill ORDER BY source_table"
new "SELECT slot, applied_lsn, source_commit_time FROM walbridge.progress"
if [ -s "$work/run.log" ]; then echo "== walbridge run said:"; cat "$work/run.log"; fi
