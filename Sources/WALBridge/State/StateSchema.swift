import PGClient

/// The bridge's own tables in the target: progress per slot and dead letters. Plain SQL, so operators and
/// applications doing gray reads can query freshness directly.
public enum StateSchema {
    /// The schema's name in the target database.
    public static let name = "walbridge"

    /// Statements that create the schema and its tables when missing.
    static let create = """
        CREATE SCHEMA IF NOT EXISTS walbridge;
        CREATE TABLE IF NOT EXISTS walbridge.progress (
            slot text PRIMARY KEY,
            applied_lsn pg_lsn NOT NULL,
            source_commit_time timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE walbridge.progress \
        IS 'walbridge: per slot, the end LSN of the last source transaction applied and its commit time';
        CREATE TABLE IF NOT EXISTS walbridge.dead_letters (
            id bigserial PRIMARY KEY,
            slot text NOT NULL,
            lsn pg_lsn NOT NULL,
            xid bigint,
            source_table text NOT NULL,
            target_table text,
            operation text NOT NULL,
            key jsonb,
            row_data jsonb,
            sqlstate text,
            error text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            retried_at timestamptz
        );
        CREATE TABLE IF NOT EXISTS walbridge.backfill (
            slot text NOT NULL,
            source_table text NOT NULL,
            state text NOT NULL CHECK (state IN ('pending', 'copying', 'done')),
            request integer NOT NULL DEFAULT 0,
            last_key text[],
            rows_copied bigint NOT NULL DEFAULT 0,
            rows_estimated bigint,
            started_at timestamptz,
            finished_at timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (slot, source_table)
        );
        COMMENT ON TABLE walbridge.backfill IS \
        'walbridge: per slot and source table, the backfill state and the last row key copied (written with the rows)';
        COMMENT ON TABLE walbridge.dead_letters \
        IS 'walbridge: changes the target rejected (on_error: dead_letter); walbridge dlq list | retry';
        CREATE TABLE IF NOT EXISTS walbridge.control (
            slot text PRIMARY KEY,
            paused boolean NOT NULL DEFAULT false,
            pause_at_lsn pg_lsn,
            state text NOT NULL DEFAULT 'stopped',
            error text,
            pid integer,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        ALTER TABLE walbridge.progress ADD COLUMN IF NOT EXISTS applied_commit_lsn pg_lsn;
        ALTER TABLE walbridge.control ADD COLUMN IF NOT EXISTS stopped_at pg_lsn;
        ALTER TABLE walbridge.control ADD COLUMN IF NOT EXISTS partner_slot text;
        CREATE TABLE IF NOT EXISTS walbridge.switch (
            slot text PRIMARY KEY,
            phase text NOT NULL CHECK (phase IN ('cutting_over', 'switched', 'rolling_back', 'rolled_back', 'aborted')),
            step text NOT NULL,
            fence text NOT NULL CHECK (fence IN ('trigger', 'lock', 'none')),
            reverse boolean NOT NULL,
            fence_lsn pg_lsn,
            fenced_at timestamptz,
            switched_at timestamptz,
            unavailable_ms double precision,
            rollback_lsn pg_lsn,
            rolled_back_at timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        ALTER TABLE walbridge.switch ADD COLUMN IF NOT EXISTS rollback_fenced_at timestamptz,
            ADD COLUMN IF NOT EXISTS rollback_unavailable_ms double precision;
        COMMENT ON TABLE walbridge.switch IS 'walbridge: per slot, the last cut-over (walbridge cutover | rollback): \
        phase, step, fence, fence LSN and the write-unavailable window';
        CREATE OR REPLACE FUNCTION walbridge.check_stop(slot_name text, commit_lsn pg_lsn)
        RETURNS void LANGUAGE plpgsql VOLATILE AS $check$
        DECLARE
            stop pg_lsn;
            asked boolean;
        BEGIN
            -- The row lock serialises with walbridge pause --at-lsn, \
        which updates the row and then reads what was applied.
            SELECT c.pause_at_lsn, c.paused INTO stop, asked FROM walbridge.control c \
        WHERE c.slot = slot_name FOR SHARE;
            IF asked AND stop IS NOT NULL AND commit_lsn > stop THEN
                RAISE EXCEPTION \
        'walbridge: a pause at % was asked, and this batch holds a transaction committing at %', stop, commit_lsn
                    USING ERRCODE = 'WBS01';
            END IF;
        END
        $check$;
        COMMENT ON FUNCTION walbridge.check_stop(text, pg_lsn) IS 'walbridge: called by the bridge before each commit; \
        fails when a pause --at-lsn lies before the batch''s last source commit';
        COMMENT ON TABLE walbridge.control IS \
        'walbridge: per slot, the pause asked for by walbridge pause | resume, and the state the bridge last reported';
        CREATE OR REPLACE FUNCTION walbridge.wait_for_lsn(lsn pg_lsn, \
        timeout interval DEFAULT '10 seconds', slot_name text DEFAULT NULL)
        RETURNS boolean LANGUAGE plpgsql VOLATILE AS $wait$
        DECLARE
            deadline timestamptz := clock_timestamp() + timeout;
        BEGIN
            LOOP
                IF EXISTS (SELECT 1 FROM walbridge.progress p WHERE (slot_name IS NULL \
        OR p.slot = slot_name) AND p.applied_lsn >= lsn) THEN
                    RETURN true;
                END IF;
                IF clock_timestamp() >= deadline THEN
                    RETURN false;
                END IF;
                PERFORM pg_sleep(0.01);
            END LOOP;
        END
        $wait$;
        COMMENT ON FUNCTION walbridge.wait_for_lsn(pg_lsn, interval, \
        text) IS 'walbridge: true once the bridge has applied the source up to lsn (take pg_current_wal_lsn() on the \
        source after a write), false after timeout; call it outside a REPEATABLE READ transaction';
        CREATE OR REPLACE FUNCTION walbridge.schema_version() RETURNS integer \
        LANGUAGE sql IMMUTABLE AS 'SELECT \(version)';
        """

    /// The schema's version: `ensure` runs its DDL only when the target's is another (ALTER TABLE locks a table
    /// ACCESS EXCLUSIVE even when the column exists, and would block, or deadlock with, a running bridge's batch).
    static let version = 3

    /// Creates the schema if it is missing; concurrent bridges may race, so a duplicate is not an error.
    static func ensure(on target: PGConnection) async throws {
        if (try? await target.query("SELECT (walbridge.schema_version() >= $1::int)::text", [String(version)]).scalar)
            == "true" {
            return
        }
        do {
            try await target.simpleQuery(create)
        } catch let error as PGError
            where error.sqlState == "23505" || error.sqlState == "42P06" || error.sqlState == "42P07" {
            try await target.simpleQuery(create)
        }
    }
}
