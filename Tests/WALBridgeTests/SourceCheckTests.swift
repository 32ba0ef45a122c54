import PGClient
import Testing
@testable import WALBridge

@Suite("SourceCheck advice")
struct SourceCheckTests {
    let connection = try! ConnectionString("host=db.internal port=5433 user=app dbname=shop password=hunter2")

    @Test("a failed password names the fix and never the password")
    func password() {
        let text = SourceCheck.advice(
            for: PGError(.connect, "cannot connect to app@db.internal:5433/shop: FATAL: password authentication failed for user \"app\""),
            connection: connection, role: "source")
        #expect(text.hasPrefix("source: cannot connect"))
        #expect(text.contains("check the password for app"))
        #expect(!text.contains("hunter2"))
    }

    @Test("a role without REPLICATION gets the ALTER ROLE to run")
    func replicationRight() {
        let text = SourceCheck.advice(
            for: PGError(.connect, "FATAL: must be superuser or replication role to start walsender"),
            connection: connection, role: "source")
        #expect(text.hasSuffix("ALTER ROLE \"app\" REPLICATION"))
    }

    @Test("connection strings print with the password masked")
    func masked() {
        #expect(connection.description.contains("password=********"))
        #expect(!connection.description.contains("hunter2"))
        #expect(connection.summary == "app@db.internal:5433/shop")
        let uri = try! ConnectionString("postgresql://app:s3cret@db:5432/shop?sslmode=disable")
        #expect(!uri.description.contains("s3cret"))
        #expect(uri["sslmode"] == "disable")
    }
}
