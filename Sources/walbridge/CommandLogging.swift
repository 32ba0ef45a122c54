import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import WALBridge

/// Logging set-up, signal handling and error reporting shared by the subcommands.
enum CommandLogging {
    /// Bootstraps swift-log once to standard error (text lines, or one JSON object per line) and returns the command's
    /// logger.
    static func logger(quiet: Bool, format: LogFormat = .text) -> Logger {
        let level: Logger.Level = quiet ? .warning : .info
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                return JSONLogHandler(label: label, level: level)
            }
        }
        return Logger(label: "walbridge")
    }

    /// Runs `body` as a service until it ends or SIGINT/SIGTERM shuts it down (a clean exit 0); any error becomes one
    /// line on stderr and exit 1.
    static func runUntilSignalled(logger: Logger, _ body: @escaping @Sendable () async throws -> Void) async throws {
        signal(SIGPIPE, SIG_IGN)
        let service = ServiceGroupConfiguration.ServiceConfiguration(
            service: CommandService(logger: logger, body: body),
            successTerminationBehavior: .gracefullyShutdownGroup,
            failureTerminationBehavior: .gracefullyShutdownGroup
        )
        var quietLogger = logger
        quietLogger.logLevel = .warning
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: quietLogger)
        )
        do {
            try await group.run()
        } catch is CancellationError {
            return
        } catch let error as DemoError {
            fail(error.description)
        } catch {
            guard let message = BridgeError.message(for: error) else { throw error }
            fail(message)
        }
    }

    /// Prints `walbridge: error: …` and exits 1.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("walbridge: error: \(message)\n".utf8))
        exit(1)
    }
}

/// How log lines are written: `text` for people, `json` for log collectors.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
