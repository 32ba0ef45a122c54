import PGClient
import Testing
@testable import WALBridge

/// Several source tables feeding disjoint column groups of one target: `insert: never`, `on_delete: clear`, the plan's
/// checks and the statements.
@Suite("Shared targets")
struct SharedTargetTests {
    /// `customers` inserts `customers_v2(id, name)`; `customer_prefs` (with `prefs` as its entry's extra lines) only
    /// updates `theme, lang`.
    static func yaml(
        customers: String = "", prefs: String = "insert: never\non_delete: clear", prefsKey: String = "[id]",
        prefsColumns: String = "{id: customer_id, theme: theme, lang: lang}"
    ) -> String {
        """
        source: "host=a"
        target: "host=b"
        slot: s
        publication: p
        tables:
          public.customers:
            - into: public.customers_v2
              key: [id]
              columns: {id: id, name: name}
        \(customers.split(separator: "\n").map { "      \($0)\n" }.joined())  public.customer_prefs:
            - into: public.customers_v2
              key: \(prefsKey)
              columns: \(prefsColumns)
        \(prefs.split(separator: "\n").map { "      \($0)\n" }.joined())
        """
    }

    static func configuration(_ yaml: String) throws -> Configuration {
        try Configuration.parse(yaml: yaml, file: "w.yml", environment: [:])
    }

    static func info(_ table: String, _ columns: [String], key: String) -> SourceTableInfo {
        SourceTableInfo(
            table: TableName(schema: "public", name: table),
            columns: columns.map { SourceColumn(name: $0, typeOID: 25, typeSQL: "text") },
            replicaIdentity: "d", primaryKey: [key], identityColumns: [key])
    }

    static let tables = [
        TableName(schema: "public", name: "customers"): info("customers", ["id", "name"], key: "id"),
        TableName(schema: "public", name: "customer_prefs"): info(
            "customer_prefs", ["customer_id", "theme", "lang"], key: "customer_id"),
    ]

    static func plan(_ yaml: String) throws -> MappingPlan {
        try MappingPlan.build(try configuration(yaml), sourceTables: tables, sameDatabase: false)
    }

    static func problems(_ yaml: String) throws -> String {
        try #require(throws: PlanProblems.self) { try plan(yaml) }.description
    }

    @Test("insert and on_delete: clear are read per entry; insert defaults to always")
    func parses() throws {
        let configuration = try Self.configuration(Self.yaml())
        #expect(configuration.tables[0].targets[0].insert == .always)
        #expect(configuration.tables[0].targets[0].onDelete == .delete)
        #expect(configuration.tables[1].targets[0].insert == .never)
        #expect(configuration.tables[1].targets[0].onDelete == .clear)
    }

    @Test("on_delete: clear without insert: never, and an unknown insert value, are errors at their line and column")
    func parseErrors() throws {
        let clear = try #require(throws: ConfigurationError.self) {
            try Self.configuration(Self.yaml(prefs: "on_delete: clear"))
        }
        #expect(clear.line == 14)
        #expect(clear.column == 18)
        #expect(clear.path == "tables.public.customer_prefs[0].on_delete")
        #expect(clear.message.contains("add insert: never"))

        let insert = try #require(throws: ConfigurationError.self) {
            try Self.configuration(Self.yaml(prefs: "insert: sometimes"))
        }
        #expect(insert.line == 14)
        #expect(insert.column == 15)
        #expect(insert.path == "tables.public.customer_prefs[0].insert")
        #expect(insert.message.contains("use one of always, never"))
    }

    @Test("""
        two entries may share a target with one key, disjoint columns and one inserting entry; \
        the inserter applies first
        """)
    func shared() throws {
        let plan = try Self.plan(Self.yaml())
        #expect(plan.inserters == [[], [0]])
        #expect(plan.inApplyOrder([1, 0]) == [0, 1])
        #expect(plan.inApplyOrder([1]) == [1])
    }

    @Test("""
        overlapping columns, two inserting entries, different keys, and other deletes than clear are \
        refused, naming both entries
        """)
    func refused() throws {
        let overlap = try Self.problems(Self.yaml(prefsColumns: "{id: customer_id, name: theme, lang: lang}"))
        #expect(
            overlap.contains(
                "tables.public.customer_prefs[0] (w.yml:11): public.customers_v2 column name is also written by "
                    + "public.customers's entry (tables.public.customers[0] (w.yml:7))"))
        #expect(overlap.contains("remove it from one of them"))

        let twoInsert = try Self.problems(Self.yaml(prefs: ""))
        #expect(
            twoInsert.contains(
                "public.customers_v2 is also inserted into by public.customers's entry (tables.public.customers[0] "
                    + "(w.yml:7)); at most one entry of a shared target inserts rows"))
        #expect(twoInsert.contains("add insert: never (and on_delete: clear) to the others"))

        let keys = try Self.problems(Self.yaml(prefsKey: "[id, lang]"))
        #expect(
            keys.contains(
                "is also fed by public.customers's entry (tables.public.customers[0] (w.yml:7)) with key [id], "
                    + "and this entry's key is [id, lang]"))

        let delete = try Self.problems(Self.yaml(prefs: "insert: never"))
        #expect(
            delete.contains(
                "public.customer_prefs updates rows of public.customers_v2 that it does not insert "
                    + "(public.customers inserts them, tables.public.customers[0] (w.yml:7)), so on_delete: "
                    + "delete would delete the whole row"))
        #expect(delete.contains("use on_delete: clear"))
    }

    @Test(
        "the inserting entry may not have a when, and an entry that only updates must be keyed on its source's row key")
    func whenAndRowKey() throws {
        let when = try Self.problems(Self.yaml(customers: "when: name IS NOT NULL"))
        #expect(when.contains("its when (name IS NOT NULL) turning false would delete their columns"))
        let offKey = try Self.problems(Self.yaml(prefsColumns: "{id: theme, lang: lang}"))
        #expect(offKey.contains("not exactly a unique key of public.customer_prefs ((customer_id))"))
        let expression = try Self.problems(Self.yaml(prefsColumns: "{id: customer_id + 0, theme: theme, lang: lang}"))
        #expect(expression.contains("not exactly a unique key of public.customer_prefs"))
        #expect(throws: Never.self) { try Self.plan(Self.yaml()) }
    }

    @Test("""
        insert: never only updates; clear sets the group's columns to NULL where a delete would \
        run, also for a TRUNCATE
        """)
    func statements() throws {
        let plan = try Self.plan(
            Self.yaml(prefs: "insert: never\non_delete: clear\non_truncate: truncate\nwhen: theme IS NOT NULL"))
        let prefs = plan.sources[1]
        let target = prefs.targets[0]
        let statements = prefs.statements(for: target)
        for statement in statements.all {
            #expect(!statement.contains("INSERT"), "\(statement)")
            #expect(!statement.contains("ON CONFLICT"), "\(statement)")
            #expect(!statement.contains("DELETE"), "\(statement)")
        }
        #expect(
            statements.write.hasPrefix(
                "UPDATE \"public\".\"customers_v2\" AS t SET \"theme\" = m.\"theme\", "
                    + "\"lang\" = m.\"lang\" FROM (SELECT (customer_id) AS \"id\", (theme) AS \"theme\", "
                    + "(lang) AS \"lang\" FROM "))
        #expect(statements.insertFresh == statements.write)
        #expect(
            statements.insertAll.hasPrefix(
                "UPDATE \"public\".\"customers_v2\" AS t SET \"theme\" = m.\"theme\", "
                    + "\"lang\" = m.\"lang\" FROM (SELECT"))
        let clear = try #require(statements.delete)
        #expect(
            clear.hasPrefix(
                "UPDATE \"public\".\"customers_v2\" AS t SET \"theme\" = NULL, \"lang\" = NULL FROM (SELECT "
                    + "(customer_id) AS \"id\" FROM "))
        #expect(clear.contains("\"__wb_op\" IN ('D', 'E')"))
        #expect(clear.contains("NOT COALESCE((theme IS NOT NULL), false)"))
        #expect(
            statements.deleteUnwanted?.hasPrefix(
                "UPDATE \"public\".\"customers_v2\" AS t SET \"theme\" = NULL, \"lang\" = NULL FROM") == true)
        #expect(target.truncation == "UPDATE \"public\".\"customers_v2\" AS t SET \"theme\" = NULL, \"lang\" = NULL")
        #expect(target.updatesOnly && !target.inPlace)

        let customers = plan.sources[0].statements(for: plan.sources[0].targets[0])
        #expect(customers.insertFresh.hasPrefix("INSERT INTO \"public\".\"customers_v2\" (\"id\", \"name\")"))
        #expect(customers.write.contains("ON CONFLICT (\"id\") DO UPDATE SET \"name\" = EXCLUDED.\"name\""))
        #expect(customers.delete?.hasPrefix("DELETE FROM \"public\".\"customers_v2\"") == true)
    }

    @Test("a single-source target may use insert: never with on_delete: delete; check says so")
    func single() throws {
        let yaml = Self.yaml(prefs: "insert: never").replacingOccurrences(
            of: "  public.customer_prefs:\n    - into: public.customers_v2",
            with: "  public.customer_prefs:\n    - into: public.prefs_v2")
        let plan = try Self.plan(yaml)
        let prefs = plan.sources[1].statements(for: plan.sources[1].targets[0])
        #expect(prefs.write.hasPrefix("UPDATE \"public\".\"prefs_v2\""))
        #expect(prefs.delete?.hasPrefix("DELETE FROM \"public\".\"prefs_v2\"") == true)
        let lines = Check.describe(plan, copies: [])
        #expect(
            lines.contains {
                $0.contains("→ public.prefs_v2 (key: id, insert: never: updates only the rows it holds)")
            })
        let shared = Check.describe(try Self.plan(Self.yaml()), copies: [])
        #expect(
            shared.contains {
                $0.contains(
                    "→ public.customers_v2 (key: id, insert: never: updates only the rows it holds, "
                        + "on_delete: clear)")
            })
        #expect(
            shared.contains {
                $0.hasPrefix(
                    "    DELETE, UPDATE that changes the key (at the old key): UPDATE \"public\".\"customers_v2\" "
                        + "AS t SET \"theme\" = NULL")
            })
    }
}
