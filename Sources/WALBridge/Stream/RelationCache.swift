import PGOutput

/// The relations a stream has described so far, by the id its changes refer to.
struct RelationCache: Sendable {
    private var relations: [UInt32: Relation] = [:]

    /// An empty cache.
    init() {}

    /// Records (or replaces) a relation's description.
    mutating func update(_ relation: Relation) {
        relations[relation.id] = relation
    }

    /// The description of a relation id, or an error naming the LSN if the stream never sent it.
    func relation(_ id: UInt32, at lsn: LSN) throws -> Relation {
        guard let relation = relations[id] else { throw BridgeError.unknownRelation(id, at: WALPosition(lsn)) }
        return relation
    }
}

extension Relation {
    /// `schema.table` as PostgreSQL would print it unquoted.
    var qualifiedName: String {
        "\(namespace).\(name)"
    }
}
