import PGOutput

extension PGOutputMessage {
    /// The protocol's name for the message kind, for error messages.
    var kindName: String {
        switch self {
        case .begin: "Begin"
        case .commit: "Commit"
        case .origin: "Origin"
        case .relation: "Relation"
        case .type: "Type"
        case .insert: "Insert"
        case .update: "Update"
        case .delete: "Delete"
        case .truncate: "Truncate"
        case .message: "Message"
        case .streamStart: "Stream Start"
        case .streamStop: "Stream Stop"
        case .streamCommit: "Stream Commit"
        case .streamAbort: "Stream Abort"
        case .beginPrepare: "Begin Prepare"
        case .prepare: "Prepare"
        case .commitPrepared: "Commit Prepared"
        case .rollbackPrepared: "Rollback Prepared"
        case .streamPrepare: "Stream Prepare"
        }
    }
}
