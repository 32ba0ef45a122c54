import PGClient
import PGOutput

/// One thing read from a slot: a pgoutput message with the WAL position it was sent at, or a keepalive.
public enum StreamItem: Sendable, Equatable {
    case message(LSN, PGOutputMessage)
    case keepalive(PrimaryKeepalive)
}
