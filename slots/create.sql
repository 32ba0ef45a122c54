-- walbridge: create the publication and the replication slot by hand, without the walbridge binary.
--
-- When: before the first `walbridge run`, if a DBA prepares the source (the bridge's role then needs no
-- CREATE privilege), or to pin the slot's start before the application's writes move on. Run it on the
-- SOURCE database, as a role with REPLICATION (or superuser) and ownership of the tables:
--
--   psql "host=legacy dbname=shop" -v slot=walbridge_shop -v publication=walbridge_shop \
--        -v tables='public.users, public.products' -f slots/create.sql
--
-- `walbridge slot create --config walbridge.yml` does the same from the configuration. Both are idempotent:
-- an existing publication or slot is left as it is.
\set ON_ERROR_STOP on

SELECT NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = :'publication') AS create_publication \gset
\if :create_publication
CREATE PUBLICATION :"publication" FOR TABLE :tables;
\endif

SELECT NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = :'slot') AS create_slot \gset
\if :create_slot
SELECT slot_name, lsn AS consistent_point FROM pg_create_logical_replication_slot(:'slot', 'pgoutput');
\endif

SELECT p.pubname AS publication, string_agg(t.schemaname || '.' || t.tablename, ', ' ORDER BY t.schemaname, t.tablename) AS tables
FROM pg_publication p LEFT JOIN pg_publication_tables t ON t.pubname = p.pubname
WHERE p.pubname = :'publication' GROUP BY p.pubname;
