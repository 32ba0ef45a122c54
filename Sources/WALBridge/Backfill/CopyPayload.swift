/// A target's COPY data for a chunk, encoded while the chunk is read (beside the writes of the one before), with
/// the statement it was encoded for.
struct CopyPayload: Sendable, Equatable {
    /// `COPY target (columns) FROM STDIN …`.
    let statement: String
    let data: [UInt8]
}
