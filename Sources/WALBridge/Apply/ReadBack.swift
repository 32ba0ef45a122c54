/// How a row read back from the source, for the TOAST values its change left out, is written.
enum ReadBack: Sendable {
    /// The values the stream sent stay, and only those left out come from the source's row now: the row is never ahead
    /// of the stream where it was sent (a foreign key column names a parent the target holds by then).
    case filled
    /// The source's row as it is now, whole: a row the source held, for a change whose values sent and values read back
    /// the target refused together (a cast or a CHECK over both).
    case whole
}
