-- walbridge: drop the replication slot and the publication.
--
-- When: at cut-over, once the application reads and writes only the new schema and the bridge is stopped
-- for good, or to abandon a migration. Until the slot is gone the source keeps WAL for it. Run it on the
-- SOURCE database, as a role with REPLICATION (or superuser):
--
--   psql "host=legacy dbname=shop" -v slot=walbridge_shop -v publication=walbridge_shop -f slots/drop.sql
--
-- It fails while a bridge is attached (stop it first). The target's walbridge schema (checkpoint, backfill
-- progress, dead letters) stays; drop it there once you no longer need it: DROP SCHEMA walbridge CASCADE.
-- `walbridge slot drop --config walbridge.yml` does the same and says what the target still holds.
\set ON_ERROR_STOP on

SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = :'slot';
DROP PUBLICATION IF EXISTS :"publication";
