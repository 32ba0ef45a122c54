import PGClient

/// A write fence on a direction's source tables: a statement-level trigger on each that refuses INSERT, UPDATE,
/// DELETE and TRUNCATE with SQLSTATE 25006 (`read_only_sql_transaction`) and a message naming where to write instead.
/// The bridge's own sessions pass (`walbridge.fence_bypass`). One statement removes it by hand:
/// `DROP FUNCTION walbridge."fence_<slot>"() CASCADE` (see `slots/unfence.sql`).
struct WriteFence: Sendable {
    /// The slot of the direction whose source tables are fenced; it names the function and the triggers.
    let slot: String
    /// Each fenced table with the message its writers get.
    let tables: [(table: TableName, message: String)]

    /// SQLSTATE of a fenced write.
    static let sqlState = "25006"

    /// What each bridge session runs, so that its own writes pass every fence.
    static let bypass = "SET walbridge.fence_bypass = 'on'"

    /// The trigger function's name, `fence_<slot>`, cut to PostgreSQL's 63 bytes (slot names are ASCII).
    static func functionName(slot: String) -> String {
        String(("fence_" + slot).prefix(63))
    }

    /// The trigger function, `walbridge."fence_<slot>"`.
    static func function(slot: String) -> String {
        "walbridge." + SQLQuoting.identifier(functionName(slot: slot))
    }

    /// The trigger's name on each table.
    static func trigger(slot: String) -> String {
        SQLQuoting.identifier(String(("walbridge_fence_" + slot).prefix(63)))
    }

    /// The fence on the source tables of `configuration`, each message naming the tables it feeds.
    init(_ configuration: Configuration, action: String, instead: String) {
        slot = configuration.slot
        tables = configuration.tables.map { table in
            let targets = table.targets.map(\.into.description).joined(separator: ", ")
            return (table.source, "\(table.source) is being \(action) \(targets); write to \(instead)")
        }
    }

    /// The statements that fence every table (run them in one transaction).
    var install: String {
        let function = Self.function(slot: slot)
        let trigger = Self.trigger(slot: slot)
        var script = """
            CREATE SCHEMA IF NOT EXISTS walbridge;
            CREATE OR REPLACE FUNCTION \(function)() RETURNS trigger LANGUAGE plpgsql AS $fence$
            BEGIN
                IF current_setting('walbridge.fence_bypass', true) = 'on' THEN
                    RETURN NULL;
                END IF;
                RAISE EXCEPTION USING ERRCODE = '\(Self.sqlState)', MESSAGE = TG_ARGV[0], HINT = TG_ARGV[1];
            END
            $fence$;
            COMMENT ON FUNCTION \(function)() IS \(SQLQuoting.literal(
                "walbridge: the write fence of slot \(slot)'s cut-over; "
                    + "DROP FUNCTION \(function)() CASCADE lifts it"));

            """
        let hint =
            "walbridge status --config … shows the cut-over; DROP FUNCTION \(function)() "
            + "CASCADE lifts the fence by hand"
        for (table, message) in tables {
            // CREATE OR REPLACE takes SHARE ROW EXCLUSIVE (readers go on); DROP TRIGGER would take ACCESS EXCLUSIVE.
            script += """
                CREATE OR REPLACE TRIGGER \(trigger) BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON \(table.quoted)
                    FOR EACH STATEMENT EXECUTE FUNCTION \(function)(\(SQLQuoting.literal(message)), \
                \(SQLQuoting.literal(hint)));

                """
        }
        return script
    }

    /// The statement that lifts the fence of `slot` from every table.
    static func remove(slot: String) -> String {
        "DROP FUNCTION IF EXISTS \(function(slot: slot))() CASCADE"
    }

    /// The tables that carry the fence of `slot` now.
    static func fenced(slot: String, on database: PGConnection) async throws -> [String] {
        try await database.query("""
            SELECT quote_ident(rn.nspname) || '.' || quote_ident(r.relname)
            FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = p.pronamespace
            JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
            WHERE n.nspname = 'walbridge' AND p.proname = $1 ORDER BY 1
            """, [functionName(slot: slot)]).rows.compactMap { $0[0] }
    }
}
