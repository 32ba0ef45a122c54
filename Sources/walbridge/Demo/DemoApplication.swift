import Synchronization
import WALBridge

/// The application during the demo: single-row writes to users and products, as fast as a small service would make
/// them, until stopped; to the legacy tables, or to the new ones once its feature switch says so. A write a cut-over's
/// fence refuses is counted and not retried.
actor DemoApplication {
    /// The schema the application writes.
    enum Schema: Int {
        case legacy, new
    }

    private let legacy: DatabaseAddress
    private let new: DatabaseAddress
    private let users: Int
    private let count = Atomic<Int>(0)
    private let refusedCount = Atomic<Int>(0)
    private let schema = Atomic<Int>(Schema.legacy.rawValue)
    private var task: Task<Void, Error>?

    /// Writes committed so far.
    nonisolated var writes: Int { count.load(ordering: .relaxed) }
    /// Writes a fence refused so far.
    nonisolated var refused: Int { refusedCount.load(ordering: .relaxed) }

    init(legacy: DatabaseAddress, new: DatabaseAddress, users: Int) {
        self.legacy = legacy
        self.new = new
        self.users = users
    }

    /// The feature switch: where the next writes go.
    nonisolated func write(to target: Schema) {
        schema.store(target.rawValue, ordering: .relaxed)
    }

    /// Starts writing in the background.
    func start() {
        task = Task.detached { [legacy, new, users, self] in
            try await SQLSession.with(legacy) { legacy in
                try await SQLSession.with(new) { new in
                    while !Task.isCancelled {
                        let id = String(Int.random(in: 1_001...users + 1_000))
                        do {
                            if self.schema.load(ordering: .relaxed) == Schema.new.rawValue {
                                try await Self.writeNew(new, id: id, products: max(users / 10, 1))
                            } else {
                                try await Self.writeLegacy(legacy, id: id, products: max(users / 10, 1))
                            }
                            self.count.add(1, ordering: .relaxed)
                        } catch where SQLSession.isFenced(error) {
                            self.refusedCount.add(1, ordering: .relaxed)
                        }
                        try await Task.sleep(for: .milliseconds(4))
                    }
                }
            }
        }
    }

    /// One write to the legacy tables: a rename, an address set or cleared, a deletion, a sign-up or a price change.
    private static func writeLegacy(_ app: SQLSession, id: String, products: Int) async throws {
        switch Int.random(in: 0..<10) {
        case 0..<4:
            try await app.query(
                "UPDATE users SET name = 'renamed ' || id || ' ' || (random() * 1000)::int WHERE id = $1", [id])
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
                INSERT INTO users (name, email, address_street, address_city, address_postal_code)
                VALUES ('new user', 'n' || gen_random_uuid() || '@example.com', 'Elm St', 'Springfield', '54321')
                """)
        default:
            try await app.query(
                "UPDATE products SET price = price + 1 WHERE id = $1",
                [String(Int.random(in: 1_001...1_000 + products))])
        }
    }

    /// The same writes to the new tables: a user and its address in one transaction, ids from users_v2's own sequence.
    private static func writeNew(_ app: SQLSession, id: String, products: Int) async throws {
        switch Int.random(in: 0..<10) {
        case 0..<4:
            try await app.query(
                "UPDATE users_v2 SET full_name = 'renamed ' || id || ' ' || (random() * 1000)::int WHERE id = $1", [id])
        case 4:
            try await app.query("""
                INSERT INTO addresses (user_id, street, city, postal_code) SELECT id, \
                id || ' New Rd', 'Shelbyville', '67890'
                FROM users_v2 WHERE id = $1 ON CONFLICT (user_id) DO UPDATE SET street = EXCLUDED.street, \
                city = 'Shelbyville', postal_code = '67890'
                """, [id])
        case 5:
            try await app.query("DELETE FROM addresses WHERE user_id = $1", [id])
        case 6:
            // The address goes first, in the same transaction: a child row never outlives its parent.
            try await app.query("""
                WITH a AS (DELETE FROM addresses WHERE user_id = $1::bigint) DELETE FROM users_v2 WHERE id = $1::bigint
                """, [id])
        case 7..<9:
            try await app.query("""
                WITH u AS (INSERT INTO users_v2 (full_name, email) VALUES ('new user', \
                'n' || gen_random_uuid() || '@example.com') RETURNING id)
                INSERT INTO addresses (user_id, street, city, postal_code) SELECT id, \
                'Elm St', 'Springfield', '54321' FROM u
                """)
        default:
            try await app.query(
                "UPDATE products_v2 SET price = price + 0.01 WHERE id = $1",
                [String(Int.random(in: 1_001...1_000 + products))])
        }
    }

    /// Stops writing; returns once the last write has committed.
    func stop() async {
        task?.cancel()
        _ = try? await task?.value
        task = nil
    }
}
