-- Target database `bridge`: the seed's new schema. The seed rows are copied in from the
-- source with the mapping applied by backlog.sh.
CREATE TABLE users_v2 (
    id        bigint PRIMARY KEY,
    full_name text NOT NULL,
    email     text
);
CREATE TABLE addresses (
    user_id     bigint PRIMARY KEY,
    street      text,
    city        text,
    postal_code text
);
