import PGClient
import Testing
@testable import WALBridge

@Suite("MappingPlan")
struct MappingPlanTests {
    func configuration(_ yaml: String) throws -> Configuration {
        try Configuration.parse(
            yaml: yaml, file: "t.yml", environment: ["WALBRIDGE_SOURCE": "host=a", "WALBRIDGE_TARGET": "host=b"])
    }

    func info(_ table: String, identity: Character = "d", primaryKey: [String] = ["id"]) -> SourceTableInfo {
        let names = ["id", "name", "address_street", "price"]
        return SourceTableInfo(
            table: TableName(schema: "public", name: table),
            columns: names.map { SourceColumn(name: $0, typeOID: 25, typeSQL: "text") },
            replicaIdentity: identity, primaryKey: primaryKey,
            identityColumns: identity == "f" ? names : identity == "n" ? [] : primaryKey)
    }

    let yaml = """
        slot: s
        publication: p
        tables:
          public.users:
            - into: public.users_v2
              key: [id]
              columns: {id: id, full_name: name}
            - into: public.addresses
              key: [user_id]
              when: address_street IS NOT NULL
              columns: {user_id: id, street: address_street}
        """

    @Test("stages only the columns the mapping reads, and generates set-based SQL per target")
    func plan() throws {
        let plan = try MappingPlan.build(
            try configuration(yaml), sourceTables: [TableName(schema: "public", name: "users"): info("users")],
            sameDatabase: false)
        let source = try #require(plan.sources.first)
        #expect(source.stagedColumns.map(\.name) == ["id", "name", "address_street"])
        let users = source.statements(for: source.targets[0])
        #expect(
            users.insertFresh.hasPrefix(
                "INSERT INTO \"public\".\"users_v2\" (\"id\", \"full_name\") SELECT (id), (name)"))
        #expect(!users.insertFresh.contains("ON CONFLICT"))
        #expect(users.write.contains("ON CONFLICT (\"id\") DO UPDATE SET \"full_name\" = EXCLUDED.\"full_name\""))
        let addresses = source.statements(for: source.targets[1])
        #expect(addresses.delete?.contains("NOT COALESCE((address_street IS NOT NULL), false)") == true)
    }

    @Test("a target with the source table's own name is in place only in the source's database")
    func sameNameElsewhere() throws {
        let same = yaml.replacingOccurrences(of: "into: public.users_v2", with: "into: public.users")
        let users = [TableName(schema: "public", name: "users"): info("users")]
        let elsewhere = try MappingPlan.build(try configuration(same), sourceTables: users, sameDatabase: false)
        #expect(elsewhere.sources[0].targets[0].inPlace == false, "a new database with the same table names")
        #expect(
            elsewhere.sources[0].statements(for: elsewhere.sources[0].targets[0]).insertFresh.hasPrefix(
                "INSERT INTO \"public\".\"users\""))
        let here = try MappingPlan.build(try configuration(same), sourceTables: users, sameDatabase: true)
        #expect(here.sources[0].targets[0].inPlace)
    }

    @Test("a key that reads a column outside the replica identity, and tables that cannot publish deletes, are refused")
    func problems() throws {
        let bad = yaml.replacingOccurrences(of: "key: [user_id]", with: "key: [street]")
        let error = #expect(throws: PlanProblems.self) {
            try MappingPlan.build(
                try configuration(bad), sourceTables: [TableName(schema: "public", name: "users"): info("users")],
                sameDatabase: false)
        }
        #expect(error?.description.contains("reads address_street, which a delete does not carry") == true)

        for (identity, primaryKey, expected) in [
            ("n" as Character, ["id"], "REPLICA IDENTITY NOTHING"), ("d", [], "has no primary key")
        ] {
            let error = #expect(throws: PlanProblems.self) {
                try MappingPlan.build(
                    try configuration(yaml),
                    sourceTables: [
                        TableName(schema: "public", name: "users"): info(
                            "users", identity: identity, primaryKey: primaryKey)
                    ], sameDatabase: false)
            }
            #expect(error?.description.contains(expected) == true)
        }
        // REPLICA IDENTITY FULL without a primary key streams, but cannot be backfilled in key order.
        let users = [TableName(schema: "public", name: "users"): info("users", identity: "f", primaryKey: [])]
        let full = #expect(throws: PlanProblems.self) {
            try MappingPlan.build(try configuration(yaml), sourceTables: users, sameDatabase: false)
        }
        #expect(full?.description.contains("REPLICA IDENTITY FULL but no primary key") == true)
        #expect(full?.description.contains("backfill: skip") == true)
        _ = try MappingPlan.build(
            try configuration(yaml + "\nbackfill: skip\n"), sourceTables: users, sameDatabase: false)

        let missing = #expect(throws: PlanProblems.self) {
            try MappingPlan.build(try configuration(yaml), sourceTables: [:], sameDatabase: false)
        }
        #expect(missing?.description.contains("source table public.users does not exist") == true)
    }

    @Test("in place, rows are only updated: no insert, no delete")
    func inPlace() throws {
        let text = """
            slot: s
            publication: p
            tables:
              public.users:
                - into: public.users
                  key: [id]
                  columns: {id: id, full_name: name}
            """
        let plan = try MappingPlan.build(
            try configuration(text), sourceTables: [TableName(schema: "public", name: "users"): info("users")],
            sameDatabase: true)
        let source = try #require(plan.sources.first)
        let statements = source.statements(for: source.targets[0])
        #expect(statements.delete == nil)
        #expect(statements.write.hasPrefix("UPDATE \"public\".\"users\" AS t SET \"full_name\" = m.\"full_name\""))
        #expect(!statements.insertFresh.contains("INSERT"))
    }
}
