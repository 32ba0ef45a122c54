-- Source side of bench/matrix.sh, run in each shape's source database with psql variables
-- :seed (rows to start with) and :toast (1: every row gets a TOASTed bio, 0: bio stays NULL).
-- The workloads are procedures that commit after every row (as an application would) and return the
-- rows they changed and the WAL position after their last commit.
CREATE FUNCTION mx_bio(id bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN current_setting('mx.toast') = '1'
        THEN (SELECT string_agg(md5(id::text || '/' || g), '') FROM generate_series(1, 100) g) END
$$;
SELECT format('ALTER DATABASE %I SET mx.toast = %L', current_database(), :'toast') \gexec
SET mx.toast = :'toast';

CREATE TABLE accounts (
    id bigint PRIMARY KEY, name text NOT NULL, email text, balance_cents bigint NOT NULL, region text, bio text
);
ALTER TABLE accounts ALTER COLUMN bio SET STORAGE EXTERNAL;

-- The rows with ids first to last, as the seed, the inserts and the big transaction write them.
CREATE FUNCTION mx_rows(first bigint, last bigint) RETURNS SETOF accounts LANGUAGE sql STABLE AS $$
    SELECT g, 'user ' || g, 'U' || g || '@Example.com', g * 7 % 100000, CASE WHEN g % 3 = 0 THEN NULL ELSE 'r' || g % 10 END, mx_bio(g)
    FROM generate_series(first, last) g
$$;

CREATE FUNCTION mx_insert(id bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO accounts SELECT * FROM mx_rows(id, id)
$$;

INSERT INTO accounts SELECT * FROM mx_rows(1, :seed);
VACUUM ANALYZE accounts;
CREATE PUBLICATION mx_pub FOR TABLE accounts;

-- Single-row inserts of new ids (from 10,000,000 on), worker `w` of `workers` taking every workers-th one.
CREATE PROCEDURE mx_inserts(w int, workers int, n int, INOUT changed bigint DEFAULT 0, INOUT at pg_lsn DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 0 .. n / workers - 1 LOOP
        PERFORM mx_insert(10000000 + i * workers + w);
        changed := changed + 1;
        COMMIT;
    END LOOP;
    at := pg_current_wal_lsn();
END
$$;

-- Single-row updates of non-key columns of seed rows (the balance, and the region every fourth time).
CREATE PROCEDURE mx_updates(w int, workers int, n int, seed int, INOUT changed bigint DEFAULT 0, INOUT at pg_lsn DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    rows bigint;
    target bigint;
BEGIN
    FOR i IN 0 .. n / workers - 1 LOOP
        target := 1 + ((i * workers + w) * 7919) % seed;
        IF i % 4 = 0 THEN
            -- The region flips between NULL and a value, so that split's `when` flips too.
            UPDATE accounts SET balance_cents = balance_cents + 1, region = CASE WHEN region IS NULL THEN 'r' || target % 10 END WHERE id = target;
        ELSE
            UPDATE accounts SET balance_cents = balance_cents + 1 WHERE id = target;
        END IF;
        GET DIAGNOSTICS rows = ROW_COUNT;
        changed := changed + rows;
        COMMIT;
    END LOOP;
    at := pg_current_wal_lsn();
END
$$;

-- A mix: 40 % inserts (ids from 20,000,000), 30 % updates, 15 % deletes and 15 % key changes (to ids from
-- 30,000,000) of seed rows; the three kinds touch disjoint seed ids (1, 2 and 3 modulo 4; seed a multiple of 4).
CREATE PROCEDURE mx_mix(w int, workers int, n int, seed int, INOUT changed bigint DEFAULT 0, INOUT at pg_lsn DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    rows bigint;
    k bigint;
BEGIN
    FOR i IN 0 .. n / workers - 1 LOOP
        k := i * workers + w;
        CASE
            WHEN k % 20 < 8 THEN PERFORM mx_insert(20000000 + k); rows := 1;
            WHEN k % 20 < 14 THEN
                UPDATE accounts SET balance_cents = balance_cents - 1, name = name || '+' WHERE id = 1 + (k * 4) % seed;
                GET DIAGNOSTICS rows = ROW_COUNT;
            WHEN k % 20 < 17 THEN
                DELETE FROM accounts WHERE id = 1 + (k * 4 + 1) % seed;
                GET DIAGNOSTICS rows = ROW_COUNT;
            ELSE
                UPDATE accounts SET id = 30000000 + k WHERE id = 1 + (k * 4 + 2) % seed;
                GET DIAGNOSTICS rows = ROW_COUNT;
        END CASE;
        changed := changed + rows;
        COMMIT;
    END LOOP;
    at := pg_current_wal_lsn();
END
$$;
