import ArgumentParser
import Dispatch
import Foundation
import Logging
import PGClient
import WALBridge

/// Logging set-up, signal handling and error reporting shared by the subcommands.
enum CommandLogging {
    /// Bootstraps swift-log once to standard error (text lines, or one JSON object per line) and returns the command's logger.
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

    /// Runs `body` until it ends or SIGINT/SIGTERM cancels it (a clean exit 0); any error becomes one line on stderr and exit 1.
    static func runUntilSignalled(logger: Logger, _ body: @escaping @Sendable () async throws -> Void) async throws {
        signal(SIGPIPE, SIG_IGN)
        let task = Task { try await body() }
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                logger.info("signal received, stopping", metadata: ["signal": "\(number == SIGINT ? "SIGINT" : "SIGTERM")"])
                task.cancel()
            }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        do {
            try await task.value
        } catch is CancellationError {
            return
        } catch let error as BridgeError {
            fail(error.description)
        } catch let error as PGError {
            fail(error.description)
        } catch let error as PlanProblems {
            fail(error.description)
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
