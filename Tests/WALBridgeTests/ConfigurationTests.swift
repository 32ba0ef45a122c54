import Foundation
import PGClient
import Testing
@testable import WALBridge

/// A file with every required key, to which each test adds or changes one thing.
private let minimal = """
    source: "host=a dbname=shop"
    target: "host=b dbname=shop"
    slot: s
    publication: p
    tables:
      public.users:
        - into: public.users_v2
          key: [id]
          columns:
            id: id

    """

/// Parses `yaml` as `w.yml`.
private func parse(_ yaml: String, environment: [String: String] = [:]) throws -> Configuration {
    try Configuration.parse(yaml: yaml, file: "w.yml", environment: environment)
}

/// The error parsing `yaml` throws; the test fails if it throws none.
private func failure(_ yaml: String, environment: [String: String] = [:]) throws -> ConfigurationError {
    try #require(throws: ConfigurationError.self) { try parse(yaml, environment: environment) }
}

/// `minimal` with one target entry's extra lines (indented as entry keys) added after `columns`.
private func withEntry(_ lines: String) -> String {
    minimal + lines.split(separator: "\n").map { "      \($0)\n" }.joined()
}

@Suite("Configuration: the example file")
struct ConfigurationExampleTests {
    @Test("the configuration built in for walbridge demo is examples/walbridge.yml")
    func builtIn() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/walbridge.yml").standardizedFileURL.path
        #expect(try String(contentsOfFile: path, encoding: .utf8) == ExampleConfiguration.text + "\n")
    }

    @Test("examples/walbridge.yml loads to the expected mappings, in file order, with defaults")
    func example() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/walbridge.yml").standardizedFileURL.path
        let configuration = try Configuration.load(path: path, environment: [:])
        #expect(configuration.source.connectionString["host"] == "legacy.internal")
        #expect(configuration.source.connectionString["dbname"] == "shop")
        #expect(configuration.target.connectionString["host"] == "newdb.internal")
        #expect(configuration.slot == "walbridge_shop")
        #expect(configuration.publication == "walbridge_shop")
        #expect(configuration.onError == .stop)
        #expect(configuration.backfill == .auto)
        #expect(configuration.backfillRate == nil)
        #expect(configuration.metrics == nil)

        let users = TableName(schema: "public", name: "users")
        let products = TableName(schema: "public", name: "products")
        #expect(configuration.tables.map(\.source) == [users, products])
        #expect(configuration.tables[0].targets == [
            TargetMapping(
                into: TableName(schema: "public", name: "users_v2"), key: ["id"],
                columns: [
                    ColumnMapping(column: "id", expression: "id"),
                    ColumnMapping(column: "full_name", expression: "name"),
                    ColumnMapping(column: "email", expression: "email"),
                ],
                location: "tables.public.users[0] (\(path):9)"),
            TargetMapping(
                into: TableName(schema: "public", name: "addresses"), key: ["user_id"],
                columns: [
                    ColumnMapping(column: "user_id", expression: "id"),
                    ColumnMapping(column: "street", expression: "address_street"),
                    ColumnMapping(column: "city", expression: "address_city"),
                    ColumnMapping(column: "postal_code", expression: "address_postal_code"),
                ],
                when: "address_street IS NOT NULL",
                location: "tables.public.users[1] (\(path):15)"),
        ])
        #expect(configuration.tables[1].targets == [
            TargetMapping(
                into: TableName(schema: "public", name: "products_v2"), key: ["id"],
                columns: [
                    ColumnMapping(column: "id", expression: "id"),
                    ColumnMapping(column: "name", expression: "name"),
                    ColumnMapping(column: "price", expression: "price::numeric / 100"),
                ],
                location: "tables.public.products[0] (\(path):24)"),
        ])
        let targets = configuration.tables.flatMap(\.targets)
        #expect(targets.count == 3)
        #expect(targets.allSatisfy { $0.onDelete == .delete && $0.onTruncate == .stop })
    }

    @Test("every optional key is read")
    func optionalKeys() throws {
        let configuration = try parse(
            withEntry("""
                when: "  active  "
                on_delete: ignore
                on_truncate: truncate
                """)
                + """
                on_error: dead_letter
                backfill: skip
                backfill_rate: 5000
                metrics: 127.0.0.1:9187
                """)
        #expect(configuration.onError == .deadLetter)
        #expect(configuration.backfill == .skip)
        #expect(configuration.backfillRate == 5000)
        #expect(configuration.metrics == "127.0.0.1:9187")
        let target = try #require(configuration.tables.first?.targets.first)
        #expect(target.when == "active")
        #expect(target.onDelete == .ignore)
        #expect(target.onTruncate == .truncate)
    }

    @Test("a number or true as an expression is kept as its text; column names fold like SQL")
    func scalarExpressions() throws {
        let configuration = try parse(minimal + """
                    one: 1
                    Flag: true
                    '"Mixed Case"': "  upper(name)  "
            """)
        let columns = try #require(configuration.tables.first?.targets.first?.columns)
        #expect(columns == [
            ColumnMapping(column: "id", expression: "id"),
            ColumnMapping(column: "one", expression: "1"),
            ColumnMapping(column: "flag", expression: "true"),
            ColumnMapping(column: "Mixed Case", expression: "upper(name)"),
        ])
    }
}

@Suite("Configuration: errors name the place and the fix")
struct ConfigurationErrorTests {
    @Test("an unknown key suggests the one within two edits")
    func unknownKeyWithSuggestion() throws {
        let error = try failure(
            minimal.replacingOccurrences(of: "      columns:", with: "      colums:"))
        #expect(error.line == 9)
        #expect(error.column == 7)
        #expect(error.path == "tables.public.users[0].colums")
        #expect(error.message == "unknown key 'colums'; did you mean 'columns'?")
        #expect(
            error.description
                == "w.yml:9:7: tables.public.users[0].colums: unknown key 'colums'; did you mean 'columns'?")
    }

    @Test("an unknown key far from every known one lists the allowed keys")
    func unknownKeyWithoutSuggestion() throws {
        let error = try failure(minimal + "replicas: 3\n")
        #expect(error.line == 11)
        #expect(error.column == 1)
        #expect(error.path == "replicas")
        #expect(error.message.contains("the keys allowed here are source, target, slot, publication, tables"))
    }

    @Test("a missing required key is reported at its mapping")
    func missingRequiredKey() throws {
        let slot = try failure(minimal.replacingOccurrences(of: "slot: s\n", with: ""))
        #expect(slot.line == 1)
        #expect(slot.column == 1)
        #expect(slot.path == "slot")
        #expect(slot.message.contains("is required"))
        #expect(slot.message.contains("slot: walbridge_shop"))

        let key = try failure(minimal.replacingOccurrences(of: "      key: [id]\n", with: ""))
        #expect(key.line == 7)
        #expect(key.column == 7)
        #expect(key.path == "tables.public.users[0].key")
        #expect(key.message.contains("e.g. key: [id]"))

        let tables = try failure(minimal.components(separatedBy: "tables:")[0])
        #expect(tables.path == "tables")
        #expect(tables.message.contains("is required"))
    }

    @Test("a slot name with upper case or dashes is rejected with a corrected suggestion")
    func badSlotName() throws {
        let error = try failure(minimal.replacingOccurrences(of: "slot: s", with: "slot: Walbridge-Shop"))
        #expect(error.line == 3)
        #expect(error.column == 7)
        #expect(error.path == "slot")
        #expect(error.message.contains("'Walbridge-Shop' is not a valid replication slot name"))
        #expect(error.message.contains("e.g. walbridge_shop"))

        let long = try failure(
            minimal.replacingOccurrences(of: "slot: s", with: "slot: \(String(repeating: "a", count: 64))"))
        #expect(long.path == "slot")
        #expect(long.message.contains("1 to 63"))
        #expect(
            try parse(minimal.replacingOccurrences(of: "slot: s", with: "slot: \(String(repeating: "a", count: 63))"))
                .slot.count == 63)
    }

    @Test("a publication name over 63 bytes is rejected")
    func longPublication() throws {
        let error = try failure(
            minimal.replacingOccurrences(
                of: "publication: p", with: "publication: \(String(repeating: "é", count: 32))"))
        #expect(error.line == 4)
        #expect(error.path == "publication")
        #expect(error.message.contains("1 to 63 bytes"))
    }

    @Test("a key column must be one of the entry's columns")
    func keyNotInColumns() throws {
        let error = try failure(minimal.replacingOccurrences(of: "key: [id]", with: "key: [idd]"))
        #expect(error.line == 8)
        #expect(error.column == 13)
        #expect(error.path == "tables.public.users[0].key[0]")
        #expect(error.message.contains("idd is not one of this entry's columns (id)"))
        #expect(error.message.contains("Did you mean id?"))
    }

    @Test("key must be a non-empty list without repeats")
    func keyShape() throws {
        let scalar = try failure(minimal.replacingOccurrences(of: "key: [id]", with: "key: id"))
        #expect(scalar.path == "tables.public.users[0].key")
        #expect(scalar.message.contains("must be a list of column names, e.g. [id]"))

        let empty = try failure(minimal.replacingOccurrences(of: "key: [id]", with: "key: []"))
        #expect(empty.line == 8)
        #expect(empty.column == 12)
        #expect(empty.message.contains("is empty"))

        let twice = try failure(minimal.replacingOccurrences(of: "key: [id]", with: "key: [id, ID]"))
        #expect(twice.line == 8)
        #expect(twice.column == 17)
        #expect(twice.path == "tables.public.users[0].key[1]")
        #expect(twice.message.contains("names id twice"))
    }

    @Test("a key repeated in one mapping is reported at the repeat, with its path")
    func duplicateYAMLKey() throws {
        let top = try failure(minimal + "slot: t\n")
        #expect(top.line == 11)
        #expect(top.column == 1)
        #expect(top.path == "slot")
        #expect(top.message == "appears twice in the same mapping (first on line 3); keep one")

        let nested = try failure(minimal + """
                    id: other
            """)
        #expect(nested.line == 11)
        #expect(nested.column == 9)
        #expect(nested.path == "tables.public.users[0].columns.id")

        let thrice = try failure(minimal + "slot: t\nslot: u\n")
        #expect(thrice.line == 11)
        #expect(thrice.path == "slot")

        let quotedInFlow = try failure(minimal.replacingOccurrences(of: "key: [id]", with: #"key: {"a": 1, 'a': 2}"#))
        #expect(quotedInFlow.line == 8)
        #expect(quotedInFlow.column == 21)
        #expect(quotedInFlow.path == "tables.public.users[0].key.a")
    }

    @Test("two column names that PostgreSQL folds to the same name are a duplicate")
    func duplicateFoldedColumn() throws {
        let error = try failure(minimal + "        ID: other\n")
        #expect(error.line == 11)
        #expect(error.column == 9)
        #expect(error.path == "tables.public.users[0].columns.ID")
        #expect(error.message.contains("names column id again (first on line 10)"))
    }

    @Test("the same into twice under one source table is an error at the second")
    func duplicateInto() throws {
        let error = try failure(minimal + """
                - into: PUBLIC.users_v2
                  key: [id]
                  columns:
                    id: id

            """)
        #expect(error.line == 11)
        #expect(error.column == 13)
        #expect(error.path == "tables.public.users[1].into")
        #expect(error.message.contains("public.users_v2 is already a target of public.users on line 7"))
    }

    @Test("one source table written two ways is an error")
    func duplicateSourceTable() throws {
        let error = try failure(minimal + """
              users:
                - into: public.other
                  key: [id]
                  columns:
                    id: id

            """)
        #expect(error.line == 11)
        #expect(error.column == 3)
        #expect(error.path == "tables.users")
        #expect(error.message.contains("names the same table as 'public.users' on line 6"))
    }

    @Test("a bad choice lists the allowed values")
    func badEnumValue() throws {
        let onDelete = try failure(withEntry("on_delete: cascade"))
        #expect(onDelete.line == 11)
        #expect(onDelete.column == 18)
        #expect(onDelete.path == "tables.public.users[0].on_delete")
        #expect(onDelete.message == "'cascade' is not allowed; use one of delete, ignore, clear")

        let onTruncate = try failure(withEntry("on_truncate: yes"))
        #expect(onTruncate.message.contains("use one of truncate, ignore, stop"))

        let onError = try failure(minimal + "on_error: retry\n")
        #expect(onError.path == "on_error")
        #expect(onError.message.contains("use one of stop, dead_letter"))

        let backfill = try failure(minimal + "backfill: later\n")
        #expect(backfill.message.contains("use one of auto, skip"))
    }

    @Test("${NAME} is replaced from the environment, and an unset one is named")
    func environmentReferences() throws {
        let yaml = minimal.replacingOccurrences(
            of: "source: \"host=a dbname=shop\"",
            with: "source: \"host=${DB_HOST} password=${DB_PASSWORD} dbname=shop$1\"")
        let configuration = try parse(yaml, environment: ["DB_HOST": "legacy", "DB_PASSWORD": "hunter2"])
        #expect(configuration.source.connectionString["host"] == "legacy")
        #expect(configuration.source.connectionString["password"] == "hunter2")
        #expect(configuration.source.connectionString["dbname"] == "shop$1")

        let unset = try failure(yaml, environment: ["DB_HOST": "legacy"])
        #expect(unset.line == 1)
        #expect(unset.column == 9)
        #expect(unset.path == "source")
        #expect(unset.message.contains("uses ${DB_PASSWORD}, but the environment variable DB_PASSWORD is not set"))

        let malformed = try failure(minimal.replacingOccurrences(of: "host=b", with: "host=${B password=hunter2"))
        #expect(malformed.path == "target")
        #expect(malformed.message.contains("write ${NAME}"))
        #expect(!malformed.description.contains("hunter2"))
    }

    @Test("WALBRIDGE_SOURCE and WALBRIDGE_TARGET override the file, which may then leave them out")
    func environmentOverrides() throws {
        let environment = [
            "WALBRIDGE_SOURCE": "host=env-source dbname=x", "WALBRIDGE_TARGET": "postgresql://u:pw@env-target/y"
        ]
        let overridden = try parse(minimal, environment: environment)
        #expect(overridden.source.connectionString["host"] == "env-source")
        #expect(overridden.target.connectionString["host"] == "env-target")

        let withoutBoth = minimal.replacingOccurrences(of: "source: \"host=a dbname=shop\"\n", with: "")
            .replacingOccurrences(of: "target: \"host=b dbname=shop\"\n", with: "")
        #expect(try parse(withoutBoth, environment: environment).target.connectionString["dbname"] == "y")

        let missing = try failure(withoutBoth, environment: ["WALBRIDGE_SOURCE": "host=env-source"])
        #expect(missing.path == "target")
        #expect(missing.message.contains("or set WALBRIDGE_TARGET"))

        let bad = try failure(minimal, environment: ["WALBRIDGE_SOURCE": "host=x password='hunter2"])
        #expect(bad.line == nil)
        #expect(bad.path == "source")
        #expect(bad.message.contains("WALBRIDGE_SOURCE"))
        #expect(!bad.description.contains("hunter2"))
    }

    @Test("a malformed connection string is reported without echoing it")
    func malformedConnectionString() throws {
        let error = try failure(minimal.replacingOccurrences(
            of: "source: \"host=a dbname=shop\"", with: "source: \"host=x password='hunter2\""))
        #expect(error.line == 1)
        #expect(error.column == 9)
        #expect(error.path == "source")
        #expect(error.message.contains("is not a valid connection string"))
        #expect(!error.description.contains("hunter2"))

        let uri = try failure(minimal.replacingOccurrences(
            of: "target: \"host=b dbname=shop\"", with: "target: \"postgresql://u:hunter2@h/db?nosuchoption=1\""))
        #expect(uri.path == "target")
        #expect(!uri.description.contains("hunter2"))
    }

    @Test("the file must be a mapping")
    func notAMapping() throws {
        let list = try failure("- source\n- target\n")
        #expect(list.line == 1)
        #expect(list.column == 1)
        #expect(list.path == "")
        #expect(
            list.message.contains(
                "the file must be a YAML mapping with source, target, slot, publication and tables, not a list"))
        #expect(list.description.hasPrefix("w.yml:1:1: the file must be"))

        let secret = try failure("host=x password=hunter2\n")
        #expect(secret.message.hasSuffix("not text"))
        #expect(!secret.description.contains("hunter2"))

        let empty = try failure("# nothing yet\n")
        #expect(empty.line == nil)
        #expect(empty.message.contains("the file is empty"))
    }

    @Test("tables must map at least one source table to at least one target")
    func emptyTables() throws {
        let base = minimal.components(separatedBy: "tables:")[0]
        for tables in ["tables: {}\n", "tables:\n"] {
            let error = try failure(base + tables)
            #expect(error.line == 5)
            #expect(error.path == "tables")
            #expect(error.message.contains("is empty"))
        }
        let noTargets = try failure(base + "tables:\n  public.users: []\n")
        #expect(noTargets.line == 6)
        #expect(noTargets.column == 17)
        #expect(noTargets.path == "tables.public.users")
        #expect(noTargets.message.contains("is empty; it must list the targets"))

        let noColumns = try failure(minimal.replacingOccurrences(of: "        id: id\n", with: ""))
        #expect(noColumns.path == "tables.public.users[0].columns")
        #expect(noColumns.message.contains("is empty"))
    }

    @Test("backfill_rate must be a positive whole number")
    func badBackfillRate() throws {
        for value in ["0", "-5", "1.5", "fast", "\"100\"", "[1]"] {
            let error = try failure(minimal + "backfill_rate: \(value)\n")
            #expect(error.line == 11)
            #expect(error.column == 16)
            #expect(error.path == "backfill_rate")
            #expect(error.message.contains("must be a positive whole number of rows per second"))
        }
    }

    @Test("retained_wal_warning takes a size with a unit, defaults to 1 GB, and names the fix when malformed")
    func retainedWALWarning() throws {
        #expect(try parse(minimal).retainedWALWarningBytes == 1 << 30)
        for (value, bytes) in [
            ("512MB", Int64(512) << 20), ("2GB", Int64(2) << 30), ("64kB", Int64(64) << 10),
            ("1048576", Int64(1_048_576))
        ] {
            #expect(
                try parse(minimal + "retained_wal_warning: \(value)\n").retainedWALWarningBytes == bytes, "\(value)")
        }
        for value in ["lots", "0", "-1GB", "1.5GB", "1 PB"] {
            let error = try failure(minimal + "retained_wal_warning: \(value)\n")
            #expect(error.path == "retained_wal_warning")
            #expect(error.message.contains("must be a size such as 1GB"), "\(value): \(error.message)")
        }
    }

    @Test("a list or mapping where text belongs is a type error")
    func wrongTypes() throws {
        let slot = try failure(minimal.replacingOccurrences(of: "slot: s", with: "slot: [a, b]"))
        #expect(slot.line == 3)
        #expect(slot.column == 7)
        #expect(slot.message == "must be text, not a list")

        let expression = try failure(minimal.replacingOccurrences(of: "id: id", with: "id: {a: 1}"))
        #expect(expression.path == "tables.public.users[0].columns.id")
        #expect(expression.message == "must be text, not a mapping")

        let entry = try failure(
            minimal.replacingOccurrences(
                of: "    - into: public.users_v2", with: "    - public.users_v2\n    - into: x"))
        #expect(entry.path == "tables.public.users[0]")
        #expect(entry.message.contains("must be a mapping with into, key and columns, not text"))

        let when = try failure(withEntry("when:"))
        #expect(when.path == "tables.public.users[0].when")
        #expect(when.message.hasPrefix("is empty; write an SQL expression"))
    }

    @Test("a name that is not a valid table name says why")
    func badTableName() throws {
        let error = try failure(
            minimal.replacingOccurrences(of: "into: public.users_v2", with: "into: public.users v2"))
        #expect(error.line == 7)
        #expect(error.column == 13)
        #expect(error.path == "tables.public.users[0].into")
        #expect(error.message.contains("'public.users v2' is not a table name: it has 'v' after a name"))

        let column = try failure(minimal.replacingOccurrences(of: "id: id", with: "a.b: id"))
        #expect(column.path == "tables.public.users[0].columns.a.b")
        #expect(column.message.contains("must be a single name"))
    }

    @Test("metrics must be host:port")
    func badMetrics() throws {
        let error = try failure(minimal + "metrics: 9187\n")
        #expect(error.line == 11)
        #expect(error.path == "metrics")
        #expect(error.message.contains("must be host:port"))
        #expect(try parse(minimal + "metrics: \"[::1]:9187\"\n").metrics == "[::1]:9187")
    }

    @Test("YAML syntax errors name the line and column")
    func invalidYAML() throws {
        let error = try failure("source: \"host=a\nslot: [a\n")
        #expect(error.line != nil)
        #expect(error.path == "")
        #expect(error.message.hasPrefix("invalid YAML: "))

        let tabs = try failure("slot: s\n\tpublication: p\n")
        #expect(tabs.line == 2)
        #expect(tabs.message.hasPrefix("invalid YAML: "))
    }

    @Test("a file that cannot be read names the file")
    func unreadableFile() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try Configuration.load(path: "/nonexistent/walbridge.yml", environment: [:])
        }
        #expect(error.file == "/nonexistent/walbridge.yml")
        #expect(error.description == "/nonexistent/walbridge.yml: no such file")
    }
}

@Suite("TableName")
struct TableNameTests {
    @Test("unqualified names are in schema public; unquoted parts fold to lower case")
    func unquoted() {
        #expect(TableName(parsing: "users") == TableName(schema: "public", name: "users"))
        #expect(TableName(parsing: "Sales.Orders") == TableName(schema: "sales", name: "orders"))
        #expect(TableName(parsing: " sales . orders ") == TableName(schema: "sales", name: "orders"))
        #expect(TableName(parsing: "_t$1") == TableName(schema: "public", name: "_t$1"))
        #expect(TableName(parsing: "Ünïcode") == TableName(schema: "public", name: "Ünïcode"))
    }

    @Test("double-quoted parts keep case, dots, spaces and doubled quotes")
    func quoted() throws {
        let odd = try #require(TableName(parsing: #""My Schema"."Odd.Name""#))
        #expect(odd == TableName(schema: "My Schema", name: "Odd.Name"))
        #expect(odd.quoted == #""My Schema"."Odd.Name""#)
        #expect(odd.description == #""My Schema"."Odd.Name""#)
        #expect(TableName(parsing: odd.description) == odd)

        let withQuote = try #require(TableName(parsing: #""say ""hi""""#))
        #expect(withQuote.name == #"say "hi""#)
        #expect(withQuote.quoted == #""public"."say ""hi""""#)
    }

    @Test("injection-looking text is either rejected or quoted harmlessly")
    func injection() throws {
        #expect(TableName(parsing: #"a"; DROP TABLE x; --"#) == nil)
        #expect(TableName(parsing: "users; DROP TABLE x") == nil)
        #expect(TableName(parsing: "users--") == nil)
        let quoted = try #require(TableName(parsing: #""a""; DROP TABLE x; --""#))
        #expect(quoted.name == #"a"; DROP TABLE x; --"#)
        #expect(quoted.quoted == #""public"."a""; DROP TABLE x; --""#)
        let built = TableName(schema: "public", name: #"a"; DROP TABLE x; --"#)
        #expect(built.quoted == #""public"."a""; DROP TABLE x; --""#)
        #expect(TableName(parsing: built.description) == built)
    }

    @Test("malformed names are rejected with a reason")
    func malformed() {
        let cases: [(String, String)] = [
            ("", "is empty"),
            ("public.", "ends with '.'"),
            (".users", "has '.' where a name should start"),
            ("1users", "has '1' where a name should start"),
            (#""open"#, "never closed"),
            (#""""#, "empty quoted name"),
            ("a.b.c", "has 3 parts"),
            (String(repeating: "x", count: 64), "longer than 63 bytes"),
        ]
        for (text, reason) in cases {
            #expect(TableName(parsing: text) == nil, "\(text)")
            #expect(throws: IdentifierError.self, "\(text)") { try TableName(validating: text) }
            do {
                _ = try TableName(validating: text)
            } catch {
                #expect(error.reason.contains(reason), "\(text): \(error.reason)")
            }
        }
        #expect(TableName(parsing: String(repeating: "x", count: 63)) != nil)
    }

    @Test("plain names print bare and sort by schema, then name")
    func descriptionAndOrder() {
        let users = TableName(schema: "public", name: "users")
        #expect(users.description == "public.users")
        #expect(users.quoted == #""public"."users""#)
        #expect(TableName(schema: "public", name: "Users").description == #"public."Users""#)
        #expect(TableName(schema: "a", name: "z") < TableName(schema: "b", name: "a"))
        #expect(TableName(schema: "a", name: "a") < TableName(schema: "a", name: "b"))
    }

    @Test("edit distance behind the suggestions")
    func suggestions() {
        #expect(KeySuggestion.editDistance("colums", "columns") == 1)
        #expect(KeySuggestion.editDistance("", "key") == 3)
        #expect(KeySuggestion.closest(to: "Into", among: ConfigurationParser.targetKeys) == "into")
        #expect(KeySuggestion.closest(to: "replicas", among: ConfigurationParser.topLevelKeys) == nil)
    }
}
