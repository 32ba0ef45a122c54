-- The legacy database of the seed documents, as scripts/demo.sh creates it: users with a name and
-- three address columns, products with the price in integer cents. The postgres image runs this
-- file once, on the first start of an empty data volume, in the database POSTGRES_DB (shop).

CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email text UNIQUE,
                    address_street text, address_city text, address_postal_code text);
CREATE TABLE products (id bigserial PRIMARY KEY, name text NOT NULL, price integer NOT NULL);

-- 5,000 users (every second one with an address) and 2,000 products exist before the bridge
-- starts, so its backfill has something to copy. Their ids start at 1001, as in scripts/demo.sh:
-- rows inserted without an id take 1, 2, … from the sequences and stand out below 1001.
INSERT INTO users (id, name, email, address_street, address_city, address_postal_code)
SELECT g, 'user ' || g, 'u' || g || '@example.com',
       CASE WHEN g % 2 = 0 THEN g || ' Main St' END,
       CASE WHEN g % 2 = 0 THEN 'Springfield' END,
       CASE WHEN g % 2 = 0 THEN '12345' END
FROM generate_series(1001, 6000) g;

INSERT INTO products (id, name, price)
SELECT g, 'product ' || g, g * 7
FROM generate_series(1001, 3000) g;

-- Row estimates for the backfill's progress (pg_class.reltuples) before autovacuum gets to it.
ANALYZE users, products;
