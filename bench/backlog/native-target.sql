-- Target database `native`: the same users table (identity mapping) for native logical
-- replication. The seed rows are copied in from the source by backlog.sh.
CREATE TABLE users (
    id                  bigint PRIMARY KEY,
    name                text NOT NULL,
    email               text,
    address_street      text,
    address_city        text,
    address_postal_code text
);
