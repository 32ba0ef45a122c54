-- Source database `bench`: the seed's legacy users table, SEED existing users (addresses on
-- the even ids), the publication, and the procedure that queues backlog (a).
-- psql variables: seed (number of existing users).
CREATE TABLE users (
    id                  bigint PRIMARY KEY,
    name                text NOT NULL,
    email               text,
    address_street      text,
    address_city        text,
    address_postal_code text
);

INSERT INTO users
SELECT g, 'User ' || g, 'user' || g || '@example.com',
       CASE WHEN g % 2 = 0 THEN g || ' Main Street' END,
       CASE WHEN g % 2 = 0 THEN 'Springfield' END,
       CASE WHEN g % 2 = 0 THEN lpad((g % 100000)::text, 5, '0') END
FROM generate_series(1, :seed) g;
VACUUM ANALYZE users;

CREATE PUBLICATION bench_pub FOR TABLE users;

-- Backlog (a): transaction i (0 <= i < total) is one single-row statement, by i % 20:
--   0-9   insert a new id (SEED + 1, SEED + 2, ...; addresses on every other one)  50 %
--   10-16 update an existing seed id that is never deleted (id % 3 <> 0), cycling
--         rename / clear the address (`when` turns false) / set an address (`when`
--         turns true or the address changes) / change the email                     35 %
--   17-19 delete seed id 3, 6, 9, ...                                                15 %
-- Worker w of n runs the i with i % n = w, so n workers can run at once without colliding.
-- It commits after every statement and returns the rows it changed (the ROW_COUNT sum) and
-- pg_current_wal_lsn() after its last commit.
CREATE PROCEDURE bench_backlog_a(worker int, workers int, total int, seed bigint,
                                 INOUT changes bigint DEFAULT 0, INOUT end_lsn pg_lsn DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    i int := worker;
    kind int;
    k bigint;
    uid bigint;
    n bigint;
    keep bigint := seed - seed / 3;   -- seed ids not divisible by 3
BEGIN
    changes := 0;
    WHILE i < total LOOP
        kind := i % 20;
        IF kind < 10 THEN
            k := (i / 20) * 10 + kind;
            INSERT INTO users VALUES (seed + 1 + k, 'New user ' || k, 'new' || k || '@example.com',
                CASE WHEN k % 2 = 0 THEN k || ' New Street' END,
                CASE WHEN k % 2 = 0 THEN 'Newtown' END,
                CASE WHEN k % 2 = 0 THEN lpad((k % 100000)::text, 5, '0') END);
        ELSIF kind < 17 THEN
            k := (i / 20) * 7 + (kind - 10);
            uid := (k * 48271) % keep;                -- the uid-th seed id with id % 3 <> 0
            uid := (uid / 2) * 3 + 1 + uid % 2;
            CASE k % 4
                WHEN 0 THEN UPDATE users SET name = 'Renamed ' || k WHERE id = uid;
                WHEN 1 THEN UPDATE users SET address_street = NULL, address_city = NULL,
                                             address_postal_code = NULL WHERE id = uid;
                WHEN 2 THEN UPDATE users SET address_street = k || ' Moved Street',
                                             address_city = 'Movedtown',
                                             address_postal_code = lpad((k % 100000)::text, 5, '0')
                            WHERE id = uid;
                ELSE        UPDATE users SET email = 'changed' || k || '@example.com' WHERE id = uid;
            END CASE;
        ELSE
            k := (i / 20) * 3 + (kind - 17);
            DELETE FROM users WHERE id = 3 * (k + 1);
        END IF;
        GET DIAGNOSTICS n = ROW_COUNT;
        changes := changes + n;
        COMMIT;
        i := i + workers;
    END LOOP;
    end_lsn := pg_current_wal_lsn();
END
$$;
