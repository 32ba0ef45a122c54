import PGClient
import PGOutput

/// What a bridge is doing, as it reports it in `walbridge.control`.
public enum BridgeState: String, Sendable, Codable {
    case starting, backfilling, streaming, paused, stopped, failed
}
