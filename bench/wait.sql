-- Waits up to :'wait' seconds until :'probe' (a query returning one boolean) is true, committing
-- between polls (every 10 ms) so that it never holds a snapshot open for long. Prints the server's
-- clock (epoch seconds) at the poll that saw it, or an empty line. bench/backlog.sh and bench/matrix.sh use it with
--   native:    SELECT latest_end_lsn >= GOAL FROM pg_stat_subscription WHERE subname = SUB AND relid IS NULL
--              (the WAL end of the walsender's last keepalive, sent only once everything before it was
--              sent; the apply worker handles it only after applying what came before), in database postgres;
--   walbridge: SELECT applied_lsn >= GOAL FROM walbridge.progress WHERE slot = SLOT, in the bridge's database;
--   backfill:  SELECT state = 'done' FROM walbridge.backfill WHERE slot = SLOT.
SET bench.probe = :'probe';
SET bench.wait = :'wait';
SET bench.done = '';
DO $$
DECLARE
    give_up timestamptz := clock_timestamp() + current_setting('bench.wait')::interval;
    ready boolean;
BEGIN
    LOOP
        ready := false;
        BEGIN
            EXECUTE current_setting('bench.probe') INTO ready;
        EXCEPTION WHEN undefined_table THEN
            ready := false;
        END;
        IF ready THEN
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
