/// The seed documents' legacy and new schemas, the demo's sample rows, and a gray read on each.
enum DemoSchema {
    /// The legacy tables with `users` rows (ids from 1001, an address on every second) and a tenth as many products.
    static func legacy(users: Int) -> String {
        """
        CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email text UNIQUE,
                            address_street text, address_city text, address_postal_code text);
        CREATE TABLE products (id bigserial PRIMARY KEY, name text NOT NULL, price integer NOT NULL);
        INSERT INTO users (id, name, email, address_street, address_city, address_postal_code)
        SELECT g, 'user ' || g, 'u' || g || '@example.com', CASE WHEN g % 2 = 0 THEN g || ' Main St' END,
               CASE WHEN g % 2 = 0 THEN 'Springfield' END, CASE WHEN g % 2 = 0 THEN '12345' END
        FROM generate_series(1001, \(users + 1_000)) g;
        INSERT INTO products (id, name, price) SELECT g, 'product ' || g, g * 7 FROM generate_series(1001, \(max(users / 10, 1) + 1_000)) g;
        ANALYZE users; ANALYZE products;
        """
    }

    /// The new tables, empty.
    static let new = """
        CREATE TABLE users_v2 (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE);
        CREATE TABLE addresses (user_id bigint PRIMARY KEY, street text, city text, postal_code text);
        CREATE TABLE products_v2 (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL);
        """

    /// One user's profile from the legacy table.
    static let legacyRead = "SELECT name, email, address_street, address_city, address_postal_code FROM users WHERE id = $1"
    /// The same profile from the new schema.
    static let newRead = """
        SELECT u.full_name, u.email, a.street, a.city, a.postal_code FROM users_v2 u LEFT JOIN addresses a ON a.user_id = u.id WHERE u.id = $1
        """
}
