-- The new schema of the seed documents, as scripts/demo.sh creates it: users.name becomes
-- users_v2.full_name, the address columns move to addresses, and the price becomes DECIMAL
-- dollars. walbridge fills these tables; the postgres image runs this file once, on the first
-- start of an empty data volume, in the database POSTGRES_DB (shop).

CREATE TABLE users_v2 (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE);
CREATE TABLE addresses (user_id bigint PRIMARY KEY, street text, city text, postal_code text);
CREATE TABLE products_v2 (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL);
