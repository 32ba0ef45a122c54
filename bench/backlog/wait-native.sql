-- Waits up to :'wait' seconds for native_sub to have caught up with the goal LSN :'goal'.
-- Run on the target cluster in database postgres (pg_stat_subscription shows every
-- database's workers, and a session in another database never holds back vacuum in `native`).
-- latest_end_lsn is the WAL end the source's walsender reported in its last keepalive; the
-- walsender sends one only once it has decoded and sent everything before it, and the apply
-- worker handles it only after applying all it received before it. Prints the server's
-- clock (epoch seconds) at the moment of catching up, or an empty line.
SET bench.goal = :'goal';
SET bench.wait = :'wait';
SET bench.done = '';
DO $$
DECLARE
    give_up timestamptz := clock_timestamp() + current_setting('bench.wait')::interval;
BEGIN
    LOOP
        IF (SELECT latest_end_lsn FROM pg_stat_subscription
            WHERE subname = 'native_sub' AND relid IS NULL) >= current_setting('bench.goal')::pg_lsn THEN
            PERFORM set_config('bench.done', extract(epoch FROM clock_timestamp())::text, false);
            RETURN;
        END IF;
        EXIT WHEN clock_timestamp() > give_up;
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
SELECT current_setting('bench.done');
