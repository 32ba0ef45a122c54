#!/usr/bin/env bash
# The local demo: builds walbridge, starts a throwaway legacy database (the seed documents'
# users and products tables), and shows `walbridge tail` printing the application's writes
# as they commit. Everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${WALBRIDGE_TEST_SOURCE:-}" ]; then
    exec scripts/with-clusters.sh "$0" "$@"
fi

echo "== building walbridge"
swift build --product walbridge >/dev/null
bin=$(swift build --show-bin-path)/walbridge

sql() { psql "$WALBRIDGE_TEST_SOURCE" -v ON_ERROR_STOP=1 -qAt -c "$1" >/dev/null; }

echo "== legacy schema: users (name, address columns) and products (price in integer cents)"
sql "CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email text UNIQUE,
                         address_street text, address_city text, address_postal_code text)"
sql "CREATE TABLE products (id bigserial PRIMARY KEY, name text NOT NULL, price integer NOT NULL)"
sql "CREATE PUBLICATION shop_pub FOR TABLE users, products"

out=$(mktemp)
"$bin" tail --source "$WALBRIDGE_TEST_SOURCE" --publication shop_pub --format "${FORMAT:-text}" >"$out" 2>"$out.log" &
tail_pid=$!
trap 'kill "$tail_pid" 2>/dev/null || true; rm -f "$out" "$out.log"' EXIT
for _ in $(seq 1 100); do grep -q streaming "$out.log" && break; sleep 0.1; done

echo "== the application writes to the legacy tables"
sql "INSERT INTO users (name, email, address_street, address_city, address_postal_code)
     VALUES ('Ada Lovelace', 'ada@example.com', '12 St James''s Square', 'London', 'SW1Y 4JH'),
            ('李雷', 'lilei@example.com', NULL, NULL, NULL)"
sql "INSERT INTO products (name, price) VALUES ('Analytical Engine', 1999), ('Punch cards', 250)"
sql "BEGIN; UPDATE users SET name = 'Augusta Ada King' WHERE id = 1; UPDATE products SET price = price + 100; COMMIT"
sql "DELETE FROM users WHERE id = 2"
sql "TRUNCATE products"
sleep 1.5
kill -INT "$tail_pid"
wait "$tail_pid" || true

echo "== what walbridge tail printed (one line per committed change, in commit order)"
cat "$out"
echo "== done: $(wc -l <"$out") changes; try FORMAT=json scripts/demo.sh for JSON lines"
