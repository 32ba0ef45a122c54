import PGClient
import Testing
@testable import WALBridge

@Suite("SourceCheck advice")
struct SourceCheckTests {
    let connection = try! ConnectionString("host=db.internal port=5433 user=app dbname=shop password=hunter2")

    @Test("a failed password names the fix and never the password")
    func password() {
        let text = SourceCheck.advice(
            for: PGError(
                .connect,
                "cannot connect to app@db.internal:5433/shop: FATAL: password authentication "
                    + "failed for user \"app\""),
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

    @Test("a server that is down, starting or full is worth retrying; a wrong password is not")
    func passingFailures() {
        let starting = PGError(
            .connect,
            "cannot connect to a@b:1/c: connection to server at \"127.0.0.1\", port 1 failed: FATAL:  "
                + "the database system is starting up")
        let refused = PGError(
            .connect,
            "cannot connect to a@b:1/c: connection to server at \"127.0.0.1\", port 1 failed: Connection refused")
        let password = PGError(
            .connect, "cannot connect to a@b:1/c: FATAL:  password authentication failed for user \"a\"")
        #expect(SourceCheck.isPassing(starting))
        #expect(SourceCheck.isPassing(refused))
        #expect(SourceCheck.isPassing(PGError(.timeout, "no answer within 30 seconds")))
        #expect(!SourceCheck.isPassing(password))
        #expect(Bridge.isTransient(starting) && !Bridge.isTransient(BridgeError.sourceNotReady("x")))
    }
}
