import PGClient

/// The bridge's own target session for `walbridge.control` (pause requests in, states out): opened again after a
/// lost connection, so a pause or resume still reaches a bridge that lived through a network fault.
actor ControlSession {
    private let target: DatabaseAddress
    private var connection: PGConnection?

    /// A session to `target`, connected on first use.
    init(target: DatabaseAddress) {
        self.target = target
    }

    /// Runs `body` on the session; a transient failure closes it, so the next call connects again.
    func run<T: Sendable>(_ body: @Sendable (PGConnection) async throws -> T) async throws -> T {
        let connection = try await open()
        do {
            return try await body(connection)
        } catch where Bridge.isTransient(error) {
            await connection.close()
            if self.connection === connection { self.connection = nil }
            throw error
        }
    }

    /// Closes the session.
    func close() async {
        await connection?.close()
        connection = nil
    }

    private func open() async throws -> PGConnection {
        if let connection, await connection.isOpen { return connection }
        let opened = try await SourceCheck.connect(target, role: "target")
        connection = opened
        return opened
    }
}
