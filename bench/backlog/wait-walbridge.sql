-- Waits up to :'wait' seconds for walbridge to have applied the source WAL up to the goal
-- LSN :'goal': walbridge.progress.applied_lsn >= goal for slot walbridge_bench. Run in the
-- target database `bridge`. The table may not exist yet (walbridge creates it). Commits
-- between polls so that it never holds a snapshot open for long in the bridge's database.
-- Prints the server's clock (epoch seconds) at the moment of catching up, or an empty line.
SET bench.goal = :'goal';
SET bench.wait = :'wait';
SET bench.done = '';
DO $$
DECLARE
    give_up timestamptz := clock_timestamp() + current_setting('bench.wait')::interval;
    caught_up boolean;
BEGIN
    LOOP
        caught_up := false;
        IF to_regclass('walbridge.progress') IS NOT NULL THEN
            EXECUTE 'SELECT applied_lsn >= $1 FROM walbridge.progress WHERE slot = $2'
                INTO caught_up USING current_setting('bench.goal')::pg_lsn, 'walbridge_bench';
        END IF;
        IF caught_up THEN
            PERFORM set_config('bench.done', extract(epoch FROM clock_timestamp())::text, false);
            RETURN;
        END IF;
        EXIT WHEN clock_timestamp() > give_up;
        COMMIT;
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT current_setting('bench.done');
