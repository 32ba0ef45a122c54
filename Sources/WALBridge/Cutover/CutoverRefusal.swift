/// A step that cannot go on without anything lost: the cut-over is undone and the command refuses with `reason`.
struct CutoverRefusal: Error {
    /// What `walbridge.switch.step` records.
    let step: String
    let reason: String
}
