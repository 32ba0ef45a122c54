import Logging
import PGClient
import PGOutput

/// Target columns that the source computes while it reads a backfill chunk, as the hand-made pipe
/// `COPY (SELECT expressions FROM source) TO STDOUT | COPY target FROM STDIN` does, so that new rows reach such a
/// target by COPY alone instead of through the staging table.
///
/// The mapping's expressions are meant to be evaluated by the target, so a target is computed on the source only
/// where the two cannot differ: both servers have the same major version, collation, character type and encoding;
/// every staged column has a built-in type and the default collation, and the target knows those types; the
/// expressions name no user-defined function, type or operator on either side, no volatile function, and nothing
/// that reads the session, the server, the catalog or another table; each expression's type is the target column's
/// (so COPY's input is the same conversion an INSERT makes); and the chunk's transaction takes the target session's
/// settings that expressions depend on. A chunk whose expressions fail on the source is read again without them,
/// and goes through the staging table, where the target judges its rows as it always does.
struct SourceEvaluation: Sendable, Equatable {
    /// A target whose columns (and `when`) the chunk query computes.
    struct Target: CopyOnlyTarget, Equatable {
        /// `COPY target (columns) FROM STDIN`.
        let statement: String
        /// Positions of the target's columns in a chunk row (after the staged columns).
        let columns: [Int]
        /// Position of the target's `when` (`t` or `f`) in a chunk row; nil without one.
        let when: Int?
        /// For a target with a `when`: whether it may hold a chunk's keys, whose rows a false `when` must remove.
        let probe: DirectCopy.Probe?

        /// COPY text data holding this target's computed columns of the rows its `when` keeps.
        func data(_ rows: [[TupleValue]]) -> [UInt8] {
            guard let when else { return StagingCopy.encode(rows, columns: columns) }
            return StagingCopy.encode(rows.filter { $0[when].textString == "t" }, columns: columns)
        }
    }

    /// A session setting the chunk's transaction takes from the target.
    struct Setting: Sendable, Equatable {
        let name: String
        let value: String
    }

    /// What the chunk query selects after the staged columns.
    let select: [String]
    /// The target session's settings that an expression may depend on.
    let settings: [Setting]
    /// The computed targets, by index among the source table's targets.
    let targets: [Int: Target]

    /// Settings that change what an expression computes, copied from the target into the chunk's transaction.
    static let copiedSettings = [
        "DateStyle", "TimeZone", "timezone_abbreviations", "lc_monetary", "lc_numeric", "lc_time",
        "standard_conforming_strings", "default_text_search_config", "transform_null_equals", "array_nulls",
        "xmloption",
    ]

    /// Row key types whose text the copied settings leave as the stream prints it (keys are compared with the
    /// stream's).
    static let plainKeyTypes: Set<String> = [
        "smallint", "integer", "bigint", "numeric", "text", "character varying", "character", "uuid", "date",
        "timestamp without time zone", "time without time zone", "boolean", "bytea", "inet", "cidr", "macaddr",
        "\"char\"", "name", "oid",
    ]

    /// Words that make an expression read something other than its row, or something the two servers hold apart.
    static let contextWords: Set<String> = [
        "select", "current_database", "current_catalog", "current_schema", "current_schemas", "current_user",
        "current_role",
        "session_user", "system_user", "user", "current_setting", "inet_server_addr", "inet_server_port",
        "inet_client_addr",
        "inet_client_port", "version", "now", "current_date", "current_time", "current_timestamp", "localtime",
        "localtimestamp",
        "statement_timestamp", "transaction_timestamp", "clock_timestamp", "timeofday", "ctid", "xmin", "xmax", "cmin",
        "cmax",
        "tableoid", "oid", "obj_description", "col_description", "shobj_description", "format_type", "nextval",
        "currval", "lastval",
        "regclass", "regproc", "regprocedure", "regoper", "regoperator", "regtype", "regrole", "regnamespace",
        "regconfig",
        "regdictionary", "regcollation", "collate", "age", "txid_current", "txid_current_if_assigned", "to_tsvector",
        "to_tsquery",
        "plainto_tsquery", "phraseto_tsquery", "websearch_to_tsquery", "ts_headline", "ts_rank", "ts_rank_cd",
        "get_current_ts_config",
    ]

    /// String literals that a date or time input reads as the moment it is evaluated.
    static let momentLiterals: Set<String> = ["now", "today", "tomorrow", "yesterday"]

    /// The targets of `source` (other than direct copies) whose columns the source can compute, or nil for none; the
    /// reasons for the others go to the debug log.
    static func plan(
        _ source: SourcePlan, direct: [DirectCopy?], on sourceSession: PGConnection, target: PGConnection,
        logger: Logger
    ) async throws -> SourceEvaluation? {
        let candidates = source.targets.indices.filter { !source.targets[$0].updatesOnly && direct[$0] == nil }
        guard !candidates.isEmpty else { return nil }
        let table = source.info.table
        let settings: [Setting]
        switch try await commonGround(source, on: sourceSession, target: target) {
        case .success(let found): settings = found
        case .failure(let reason):
            logger.debug(
                "backfill computes the mapping on the target",
                metadata: ["table": "\(table)", "reason": "\(reason.text)"])
            return nil
        }
        var select: [String] = []
        var targets: [Int: Target] = [:]
        for index in candidates {
            let mapping = source.targets[index].mapping
            switch try await computed(
                mapping, of: source, settings: settings, from: source.stagedColumns.count + select.count,
                on: sourceSession, target: target) {
            case .success(let found):
                select += found.select
                targets[index] = found.target
            case .failure(let reason):
                logger.debug(
                    "backfill computes a target on the target",
                    metadata: ["table": "\(table)", "target": "\(mapping.into)", "reason": "\(reason.text)"])
            }
        }
        guard !targets.isEmpty else { return nil }
        logger.info("backfill computes mapped columns on the source", metadata: [
                "table": "\(table)",
                "targets": """
                    \(targets.keys.sorted().map { source.targets[$0].mapping.into.description }
                        .joined(separator: ", "))
                    """,
        ])
        return SourceEvaluation(select: select, settings: settings, targets: targets)
    }

    /// The contents of the plain string literals in `expression` ('…', quotes doubled).
    static func stringLiterals(in expression: String) -> [String] {
        var literals: [String] = []
        var current: String?
        var chars = expression.makeIterator()
        var pending = chars.next()
        while let c = pending {
            pending = chars.next()
            if var literal = current {
                if c == "'" {
                    if pending == "'" {
                        literal.append("'")
                        current = literal
                        pending = chars.next()
                    } else {
                        literals.append(literal)
                        current = nil
                    }
                } else {
                    literal.append(c)
                    current = literal
                }
            } else if c == "'" {
                current = ""
            }
        }
        return literals
    }

    /// Why a table or target is not computed on the source.
    struct Reason: Error {
        let text: String
    }

    /// The target's settings to copy, when the two databases and the table's staged columns allow computing on the
    /// source.
    private static func commonGround(
        _ source: SourcePlan, on sourceSession: PGConnection, target: PGConnection
    ) async throws -> Result<[Setting], Reason> {
        // The same build (time zone data included) and the same collation library, version and locale.
        let ground = """
            SELECT version(), datcollate, datctype, pg_encoding_to_char(encoding), to_jsonb(d) ->> 'datlocprovider',
                coalesce(to_jsonb(d) ->> 'daticulocale', to_jsonb(d) ->> 'datlocale'), to_jsonb(d) ->> 'datcollversion'
            FROM pg_database d WHERE datname = current_database()
            """
        guard try await sourceSession.query(ground).rows == target.query(ground).rows else {
            return .failure(
                Reason(
                    text: "the two databases differ in server build, collation provider or version, "
                        + "character type or encoding"))
        }
        let names = copiedSettings + ["IntervalStyle", "bytea_output", "extra_float_digits"]
        let values = try await target.query(
            "SELECT current_setting(n) FROM unnest($1::text[]) WITH ORDINALITY u(n, i) ORDER BY i",
            [TextArray.literal(names)]
        ).rows.map { $0[0] ?? "" }
        let value = Dictionary(uniqueKeysWithValues: zip(names, values))
        // The staged columns' text must stay as the stream prints it (keys are compared with the stream's) and read
        // back exactly.
        guard value["DateStyle"]?.hasPrefix("ISO") == true, value["IntervalStyle"] == "postgres",
            value["bytea_output"] == "hex",
            (Int(value["extra_float_digits"] ?? "") ?? 0) > 0
        else {
            return .failure(
                Reason(
                    text: "the target's DateStyle, IntervalStyle, bytea_output or extra_float_digits "
                        + "print values differently"))
        }
        // Without the type modifier: numeric(10,2), character varying(20), timestamp(3) without time zone.
        let keyTypes = source.rowKey.map { source.stagedColumns[$0].typeSQL.replacing(/\(\d+(,\d+)?\)/, with: "") }
        if let type = keyTypes.first(where: { !plainKeyTypes.contains($0) }) {
            return .failure(Reason(text: "a row key column of type \(type) may print by the session's settings"))
        }
        guard try await TargetCheck.stagingTypes(source, on: target) == source.stagedColumns.map(\.typeSQL) else {
            return .failure(Reason(text: "the target lacks a staged column's type"))
        }
        let unusual = try await sourceSession.query(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = $1::oid AND attname = ANY($2::text[]) "
                + "AND (atttypid >= 16384 OR attcollation NOT IN (0, 100))",
            [String(source.info.oid), TextArray.literal(source.stagedColumns.map(\.name))]
        ).scalar
        guard unusual == "0" else {
            return .failure(Reason(text: "a staged column has a user-defined type or a collation of its own"))
        }
        return .success(copiedSettings.map { Setting(name: $0, value: value[$0] ?? "") })
    }

    /// The select list and layout of one target computed on the source, starting at chunk-row position `offset`.
    private static func computed(
        _ mapping: TargetMapping, of source: SourcePlan, settings: [Setting], from offset: Int,
        on sourceSession: PGConnection, target: PGConnection
    ) async throws -> Result<(select: [String], target: Target), Reason> {
        let expressions = mapping.columns.map(\.expression) + (mapping.when.map { [$0] } ?? [])
        let words = Set(expressions.flatMap(ExpressionReferences.identifiers(in:)))
        if let word = words.first(where: {
            contextWords.contains($0) || $0.hasPrefix("pg_") || $0.hasPrefix("to_reg") || $0.hasSuffix("_privilege")
                || $0.contains("xml")
        }) {
            return .failure(Reason(text: "an expression uses \(word)"))
        }
        if expressions.contains(where: { $0.lowercased().contains("u&") }) {
            return .failure(Reason(text: "an expression spells a name or string with Unicode escapes"))
        }
        if let literal = expressions.flatMap(stringLiterals).first(where: {
            momentLiterals.contains($0.trimmingCharacters(in: .whitespaces).lowercased())
        }) {
            return .failure(Reason(text: "an expression reads the moment '\(literal)'"))
        }
        let foreign = """
            SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = ANY($1::text[]) \
            AND (oid >= 16384 OR provolatile = 'v'))
                OR EXISTS (SELECT 1 FROM pg_type WHERE oid >= 16384 AND typname = ANY($1::text[]))
                OR EXISTS (SELECT 1 FROM pg_operator WHERE oid >= 16384 AND strpos($2, oprname) > 0)
                OR EXISTS (SELECT 1 FROM pg_cast WHERE oid >= 16384 AND castsource < 16384 AND casttarget < 16384)
            """
        let bound = [TextArray.literal(Array(words)), expressions.joined(separator: " ")]
        for side in [sourceSession, target] where try await side.query(foreign, bound).scalar != "f" {
            return .failure(
                Reason(text: "an expression may name a user-defined or volatile function, type or operator"))
        }
        var select = mapping.columns.map { "(\($0.expression))" }
        if let when = mapping.when { select.append("COALESCE((\(when)), false)") }
        // Named apart from the staged columns, so that the chunk's ORDER BY finds only those.
        select = select.indices.map {
            "\(select[$0]) AS \(SQLQuoting.identifier("__walbridge_computed_\(offset + $0)"))"
        }
        let typeNames: [String?]
        try await sourceSession.simpleQuery("BEGIN READ ONLY")
        do {
            for setting in settings {
                _ = try await sourceSession.query("SELECT set_config($1, $2, true)", [setting.name, setting.value])
            }
            let types = try await sourceSession.query(
                "SELECT \(select.joined(separator: ", ")) FROM \(source.info.ownRows) LIMIT 0"
            ).columnTypes
            typeNames = try await sourceSession.query(
                "SELECT format_type(t, NULL) FROM unnest($1::oid[]) WITH ORDINALITY u(t, i) ORDER BY i",
                ["{" + types.map(String.init).joined(separator: ",") + "}"]
            ).rows.map { $0[0] }
            try await sourceSession.simpleQuery("ROLLBACK")
        } catch let error as PGError where error.kind == .server {
            try await sourceSession.simpleQuery("ROLLBACK")
            return .failure(Reason(text: "the source cannot compute it: \(error.message)"))
        }
        let columns = try await TargetCheck.columns(of: mapping.into, on: target)
        let wanted = mapping.columns.map { columns[$0.column]?.baseType } + (mapping.when == nil ? [] : ["boolean"])
        guard typeNames == wanted else {
            return .failure(
                Reason(
                    text: "an expression's type is not its column's (\(typeNames.map { $0 ?? "?" }) "
                        + "for \(wanted.map { $0 ?? "?" }))"))
        }
        var probe: DirectCopy.Probe?
        if mapping.when != nil {
            let keyPositions = mapping.key.map { key in
                DirectCopy.stagedPosition(of: mapping.columns.first { $0.column == key }?.expression ?? "", in: source)
                    ?? -1
            }
            probe = DirectCopy.Probe(
                mapping, keyPositions: keyPositions, of: source, types: columns.mapValues(\.type),
                collated: Set(columns.filter(\.value.collated).keys))
        }
        let columnList = mapping.columns.map { SQLQuoting.identifier($0.column) }.joined(separator: ", ")
        let computed = Target(
            statement: "COPY \(mapping.into.quoted) (\(columnList)) FROM STDIN",
            columns: Array(offset..<(offset + mapping.columns.count)),
            when: mapping.when == nil ? nil : offset + mapping.columns.count,
            probe: probe)
        return .success((select, computed))
    }
}
