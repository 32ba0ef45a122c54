import Synchronization
import WALBridge

/// The legacy application during the demo: single-row writes to users and products on the legacy database,
/// as fast as a small service would make them, until stopped.
actor DemoApplication {
    private let legacy: DatabaseAddress
    private let users: Int
    private let count = Atomic<Int>(0)
    private var task: Task<Void, Error>?

    /// Writes committed so far.
    nonisolated var writes: Int { count.load(ordering: .relaxed) }

    init(legacy: DatabaseAddress, users: Int) {
        self.legacy = legacy
        self.users = users
    }

    /// Starts writing in the background.
    func start() {
        task = Task.detached { [legacy, users, self] in
            try await SQLSession.with(legacy) { app in
                var next = users + 1_001
                while !Task.isCancelled {
                    let id = String(Int.random(in: 1_001...users + 1_000))
                    switch Int.random(in: 0..<10) {
                    case 0..<4:
                        try await app.query("UPDATE users SET name = 'renamed ' || id || ' ' || (random() * 1000)::int WHERE id = $1", [id])
                    case 4..<6:
                        try await app.query("""
                            UPDATE users SET address_street = CASE WHEN address_street IS NULL THEN id || ' New Rd' END,
                                             address_city = CASE WHEN address_street IS NULL THEN 'Shelbyville' END,
                                             address_postal_code = CASE WHEN address_street IS NULL THEN '67890' END
                            WHERE id = $1
                            """, [id])
                    case 6:
                        try await app.query("DELETE FROM users WHERE id = $1", [id])
                    case 7..<9:
                        try await app.query("""
                            INSERT INTO users (id, name, email, address_street, address_city, address_postal_code)
                            VALUES ($1::bigint, 'new user ' || $1, 'n' || $1 || '@example.com', 'Elm St', 'Springfield', '54321')
                            """, [String(next)])
                        next += 1
                    default:
                        try await app.query("UPDATE products SET price = price + 1 WHERE id = $1", [String(Int.random(in: 1_001...1_000 + max(users / 10, 1)))])
                    }
                    self.count.add(1, ordering: .relaxed)
                    try await Task.sleep(for: .milliseconds(4))
                }
            }
        }
    }

    /// Stops writing; returns once the last write has committed.
    func stop() async {
        task?.cancel()
        _ = try? await task?.value
        task = nil
    }
}
