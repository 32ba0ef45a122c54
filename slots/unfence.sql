-- walbridge: lift a cut-over's write fence by hand.
--
-- When: a `walbridge cutover` or `rollback` was stopped half-way and cannot be run again (or `cutover --abort`),
-- and the application must write the fenced tables now. `walbridge status` names every fenced table. The fence is
-- one trigger function per direction; dropping it with CASCADE removes its trigger from every table at once.
-- Run it on the database whose tables are fenced:
--
--   the legacy tables (cut-over):  psql "host=legacy dbname=shop" -v slot=walbridge_shop -f slots/unfence.sql
--   the new tables (rollback):     psql "host=newdb dbname=shop" -v slot=walbridge_shop_reverse -f slots/unfence.sql
--
-- It is the one statement below, which you may also type yourself:
--   DROP FUNCTION walbridge."fence_walbridge_shop"() CASCADE;
-- Lifting the legacy fence does not resume the bridge (it stays paused at the fence LSN): walbridge resume, or
-- walbridge cutover --abort, which does both. walbridge.switch still says where the cut-over stopped.
\set ON_ERROR_STOP on

SELECT format('DROP FUNCTION IF EXISTS walbridge.%I() CASCADE', 'fence_' || :'slot') AS unfence \gset
:unfence;
