extension Configuration {
    /// The source tables, for messages: `public.users, public.products`.
    var sourceTableList: String { tables.map(\.source.description).joined(separator: ", ") }
}

/// The sessions a cut-over command works through: one to the legacy database, one to the new.
enum CutoverSessions {
    /// Runs `body` with the forward direction, and the reverse one when the configuration has `reverse:`.
    static func with<R: Sendable>(
        _ configuration: Configuration, _ body: (Direction, Direction?) async throws -> R
    ) async throws -> R {
        try await SourceCheck.connect(configuration.source).closing { source in
            try await SourceCheck.connect(configuration.target, role: "target").closing { target in
                try await StateSchema.ensure(on: target)
                let forward = Direction(configuration: configuration, source: source, target: target)
                guard let reversed = configuration.reversed else { return try await body(forward, nil) }
                // The reverse direction's state lives in the legacy database, its target.
                try await StateSchema.ensure(on: source)
                return try await body(forward, Direction(configuration: reversed, source: target, target: source))
            }
        }
    }
}
