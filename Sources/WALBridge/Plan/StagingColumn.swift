import PGClient

/// Names of the bookkeeping columns every staging table has besides the staged source columns.
enum StagingColumn {
    static let seq = SQLQuoting.identifier("__wb_seq")
    static let op = SQLQuoting.identifier("__wb_op")
    static let unchanged = SQLQuoting.identifier("__wb_unchanged")
}
