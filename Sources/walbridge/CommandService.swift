import Logging
import ServiceLifecycle

/// One subcommand's work as a swift-service-lifecycle service: a graceful shutdown (SIGTERM, SIGINT) cancels it.
struct CommandService: Service {
    let logger: Logger
    let body: @Sendable () async throws -> Void

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await cancelWhenGracefulShutdown(body)
        } onGracefulShutdown: { [logger] in
            logger.info("signal received, stopping")
        }
    }
}
