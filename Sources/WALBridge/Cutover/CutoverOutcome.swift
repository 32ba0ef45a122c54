/// How `walbridge cutover`, `rollback` or `cutover --abort` ended, when no error ended it.
public enum CutoverOutcome: Sendable, Equatable {
    /// Done; the record shows the phase reached.
    case done(SwitchRecord)
    /// A gate failed, or the state does not allow the command; nothing was changed. Each line says what to do.
    case refused([String])
    /// `--dry-run`: nothing was changed.
    case dryRun
}
