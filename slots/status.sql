-- walbridge: the replication slot's state, the WAL it keeps on the source, and the bridge's lag.
--
-- When: any time, and above all while the bridge is paused or stopped for long: a slot keeps every WAL
-- segment from its restart_lsn on, and the source's disk fills if nobody consumes it. Run it on the
-- SOURCE database (any role that may read pg_replication_slots):
--
--   psql "host=legacy dbname=shop" -v slot=walbridge_shop -f slots/status.sql
--
-- lag_bytes is measured to confirmed_flush_lsn, which walbridge moves only after the target has durably
-- committed everything before it. `walbridge status` adds the target's side (applied LSN, commit time,
-- backfill, dead letters). wal_status 'lost' means the slot can no longer stream: drop it and backfill again.
\set ON_ERROR_STOP on

SELECT slot_name,
       active,
       active_pid,
       confirmed_flush_lsn,
       restart_lsn,
       pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained_wal_bytes,
       pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) AS retained_wal,
       pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag_bytes,
       wal_status,
       safe_wal_size,
       current_setting('max_slot_wal_keep_size') AS max_slot_wal_keep_size
FROM pg_replication_slots
WHERE slot_name = :'slot';
