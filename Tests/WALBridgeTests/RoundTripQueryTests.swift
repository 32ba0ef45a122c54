import Testing
@testable import WALBridge

@Suite("RoundTripQuery")
struct RoundTripQueryTests {
    let users = TableName(schema: "public", name: "users")
    let usersV2 = TargetMapping(
        into: TableName(schema: "public", name: "users_v2"), key: ["id"],
        columns: [
            ColumnMapping(column: "id", expression: "id"), ColumnMapping(column: "full_name", expression: "name")
        ], location: "tables.public.users[0]")
    let addresses = TargetMapping(
        into: TableName(schema: "public", name: "addresses"), key: ["user_id"],
        columns: [
            ColumnMapping(column: "user_id", expression: "id"),
            ColumnMapping(column: "street", expression: "address_street")
        ],
        when: "address_street IS NOT NULL", location: "tables.public.users[1]")
    let backFromUsers = TargetMapping(
        into: TableName(schema: "public", name: "users"), key: ["id"],
        columns: [
            ColumnMapping(column: "id", expression: "id"), ColumnMapping(column: "name", expression: "full_name")
        ], location: "reverse.public.users_v2[0]")
    let backFromAddresses = TargetMapping(
        into: TableName(schema: "public", name: "users"), key: ["id"],
        columns: [
            ColumnMapping(column: "id", expression: "user_id"),
            ColumnMapping(column: "address_street", expression: "street")
        ],
        when: "street <> ''", location: "reverse.public.addresses[0]")

    var query: RoundTripQuery {
        RoundTripQuery(
            table: users, key: ["id"], ordered: true,
            legacy: [
                (name: "id", type: "bigint"), (name: "name", type: "text"), (name: "address_street", type: "text"),
                (name: "created_at", type: "timestamp with time zone")
            ],
            forward: [
                (
                    mapping: usersV2,
                    columns: [
                        (name: "full_name", type: "text"), (name: "id", type: "bigint"), (name: "note", type: "text")
                    ]
                ),
                (mapping: addresses, columns: [(name: "street", type: "text"), (name: "user_id", type: "bigint")]),
            ],
            legs: [
                RoundTripQuery.Leg(reverse: backFromUsers, forward: 0),
                RoundTripQuery.Leg(reverse: backFromAddresses, forward: 1)
            ])
    }

    @Test("""
        forward rows hold only the new table's columns, cast to its types (NULL where the mapping does not write \
        one), behind the forward when
        """)
    func forwardRows() {
        #expect(query.sql.contains("""
            "__walbridge_forward_0" AS (SELECT "__walbridge_row", ((name)::text) AS "full_name", \
            ((id)::bigint) AS "id", (NULL::text) AS "note" FROM "__walbridge_sample" AS "users")
            """), "\(query.sql)")
        #expect(
            query.sql.contains(#"FROM "__walbridge_sample" AS "users" WHERE (address_street IS NOT NULL))"#),
            "\(query.sql)")
        #expect(
            query.sql.contains(
                #"SELECT row_number() OVER (ORDER BY "id") AS "__walbridge_row", * FROM (SELECT * FROM "#
                    + #""public"."users" ORDER BY random() LIMIT $1::bigint) AS "users""#),
            "the sample size is a bound parameter; rows are numbered by key")
    }

    @Test("each reverse entry reads only its forward row, casts to the legacy types, and keeps its own when")
    func reverseRows() {
        #expect(query.sql.contains("""
            "__walbridge_reverse_0" AS (SELECT "__walbridge_row", (((id)::bigint)::text) AS v0, \
            (((full_name)::text)::text) AS v1 FROM "__walbridge_forward_0" AS "users_v2")
            """), "\(query.sql)")
        #expect(query.sql.contains("""
            "__walbridge_reverse_1" AS (SELECT "__walbridge_row", (((user_id)::bigint)::text) AS v0, \
            (((street)::text)::text) AS v1 FROM "__walbridge_forward_1" AS "addresses" WHERE (street <> ''))
            """), "\(query.sql)")
    }

    @Test("""
        columns no reverse entry writes are not compared; a key column is compared where its entry's row exists, any \
        other also where it is absent
        """)
    func comparisons() {
        #expect(query.columns == ["id", "name", "address_street"])
        #expect(
            query.sql.contains(
                #"((b0."__walbridge_row" IS NOT NULL AND (s."id")::text IS DISTINCT FROM b0.v0) OR "#
                    + #"(b1."__walbridge_row" IS NOT NULL AND (s."id")::text IS DISTINCT FROM b1.v0)) AS d0"#),
            "\(query.sql)")
        #expect(query.sql.contains(#"(((s."address_street")::text IS DISTINCT FROM b1.v1)) AS d2"#), "\(query.sql)")
        #expect(!query.sql.contains("created_at"))
    }

    @Test(
        "the result row becomes a summary, a note for rows no reverse entry reaches, and a problem per differing column"
    )
    func findings() {
        let row: [String?] = ["1000", "2", "(4)", "0", nil, nil, nil, "0", nil, nil, nil, "3", "(7)", "1 Main St", nil]
        let findings = query.findings(row)
        #expect(
            findings.summary
                == "public.users: 1000 sampled rows, 3 columns compared; address_street does not round-trip")
        #expect(
            findings.notes == [
                "2 of 1000 sampled rows of public.users reach no reverse entry ((id)=(4)): no new table holds them, "
                    + "so their columns are not compared"
            ])
        #expect(
            findings.problems == [
                "public.users.address_street does not round-trip on 3 of 1000 sampled rows: (id)=(7): "
                    + "1 Main St became NULL (no reverse entry gives it a value)"
            ])
    }
}
