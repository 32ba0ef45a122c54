import Foundation
import Yams

/// Reading `tables`: each source table, its targets, and their columns.
extension ConfigurationParser {
    /// The keys allowed in one target entry.
    static let targetKeys = ["into", "key", "columns", "when", "on_delete", "on_truncate", "insert"]

    /// Every source table with its targets, in file order, under `root` (`tables`, or `reverse` for the new tables).
    func tables(_ node: Node, at root: String) throws -> [TableMapping] {
        let mapping = try nonEmptyMapping(node, at: root, what: "a mapping from each source table to a list of targets")
        var tables: [TableMapping] = []
        var seen: [TableName: Node] = [:]
        for (keyNode, value) in mapping {
            let written = try keyText(keyNode, in: root)
            let path = "\(root).\(written)"
            let source = try tableName(written, at: keyNode, path)
            if let first = seen[source] {
                throw error(
                    at: keyNode, path,
                    "names the same table as '\(first.string ?? "")' on line \(first.mark?.line ?? 0); "
                        + "put all of \(source)'s targets in one list")
            }
            seen[source] = keyNode
            let entries = try nonEmptyList(
                value, at: path, what: "the targets this table feeds, each starting with '- into:'")
            var targets: [TargetMapping] = []
            var intoNodes: [TableName: Node] = [:]
            for (index, entry) in entries.enumerated() {
                let (target, intoNode) = try self.target(entry, at: "\(path)[\(index)]")
                if let first = intoNodes[target.into] {
                    throw error(
                        at: intoNode, "\(path)[\(index)].into",
                        "\(target.into) is already a target of \(source) on line \(first.mark?.line ?? 0); "
                            + "merge the two entries or remove one")
                }
                intoNodes[target.into] = intoNode
                targets.append(target)
            }
            tables.append(TableMapping(source: source, targets: targets))
        }
        return tables
    }

    /// One `- into:` entry, and the node of its `into` for messages about it.
    private func target(_ node: Node, at path: String) throws -> (TargetMapping, into: Node) {
        let entry = try mapping(node, at: path, allowed: Self.targetKeys, what: "a mapping with into, key and columns")
        let intoNode = try required(entry, "into", "the target table this entry fills, e.g. into: public.users_v2")
        let into = try tableName(text(intoNode, at: entry.path(of: "into")), at: intoNode, entry.path(of: "into"))
        let columns = try self.columns(
            required(
                entry, "columns",
                "a mapping from each target column to an SQL expression over the source row, e.g. id: id"),
            at: entry.path(of: "columns"))
        let key = try self.key(
            required(entry, "key", "the target columns that identify a row, e.g. key: [id]"),
            at: entry.path(of: "key"), columns: columns.map(\.column))
        let insert: InsertMode = try entry["insert"].map { try choice($0, at: entry.path(of: "insert")) } ?? .always
        let onDelete: OnDelete =
            try entry["on_delete"].map { try choice($0, at: entry.path(of: "on_delete")) } ?? .delete
        if onDelete == .clear && insert == .always {
            throw error(
                at: entry["on_delete"], entry.path(of: "on_delete"),
                "clear keeps the row with this entry's columns NULL, "
                    + "which only fits an entry that does not insert the row; add insert: "
                    + "never (another entry or the application inserts the rows), "
                    + "or use on_delete: delete or ignore")
        }
        let target = TargetMapping(
            into: into, key: key, columns: columns,
            when: try entry["when"].map { try expression($0, at: entry.path(of: "when")) },
            onDelete: onDelete,
            onTruncate: try entry["on_truncate"].map { try choice($0, at: entry.path(of: "on_truncate")) } ?? .stop,
            insert: insert,
            location: "\(path) (\(file):\(node.mark?.line ?? 0))")
        return (target, intoNode)
    }

    /// `columns`: target column → expression, in file order, with names as the database spells them.
    private func columns(_ node: Node, at path: String) throws -> [ColumnMapping] {
        let mapping = try nonEmptyMapping(
            node, at: path, what: "a mapping from each target column to an SQL expression, e.g. id: id")
        var columns: [ColumnMapping] = []
        var seen: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let written = try keyText(keyNode, in: path)
            let columnPath = "\(path).\(written)"
            let column = try columnName(written, at: keyNode, columnPath)
            if let first = seen[column] {
                throw error(
                    at: keyNode, columnPath,
                    "names column \(SQLIdentifier.display(column)) again (first on "
                        + "line \(first.mark?.line ?? 0)); keep one")
            }
            seen[column] = keyNode
            columns.append(ColumnMapping(column: column, expression: try expression(value, at: columnPath)))
        }
        return columns
    }

    /// `key`: a non-empty list of distinct column names, each one of `columns`.
    private func key(_ node: Node, at path: String, columns: [String]) throws -> [String] {
        if case .scalar = node, node.tagName != .null {
            throw error(at: node, path, "must be a list of column names, e.g. [\(node.string ?? "id")]")
        }
        let items = try nonEmptyList(node, at: path, what: "the target columns that identify a row, e.g. [id]")
        var key: [String] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            let column = try columnName(text(item, at: itemPath), at: item, itemPath)
            let shown = SQLIdentifier.display(column)
            guard !key.contains(column) else {
                throw error(at: item, itemPath, "names \(shown) twice; list each column once")
            }
            guard columns.contains(column) else {
                let suggestion =
                    KeySuggestion.closest(to: column, among: columns).map {
                        " Did you mean \(SQLIdentifier.display($0))?"
                    } ?? ""
                throw error(
                    at: item, itemPath,
                    "\(shown) is not one of this entry's columns "
                        + "(\(columns.map(SQLIdentifier.display).joined(separator: ", "))); "
                        + "add it to columns or fix the name.\(suggestion)")
            }
            key.append(column)
        }
        return key
    }

    /// An SQL expression as written, trimmed; it is checked against the database later.
    private func expression(_ node: Node, at path: String) throws -> String {
        let expression =
            node.tagName == .null ? "" : try text(node, at: path).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !expression.isEmpty else {
            throw error(at: node, path, "is empty; write an SQL expression over the source row, e.g. a column name")
        }
        return expression
    }

    /// A table name as PostgreSQL reads it.
    private func tableName(_ text: String, at node: Node, _ path: String) throws -> TableName {
        do {
            return try TableName(validating: text)
        } catch {
            throw self.error(at: node, path, "'\(text)' is not a table name: it \(error.reason)")
        }
    }

    /// A column name as PostgreSQL reads it.
    private func columnName(_ text: String, at node: Node, _ path: String) throws -> String {
        do {
            return try SQLIdentifier.name(text)
        } catch {
            throw self.error(at: node, path, "'\(text)' is not a column name: it \(error.reason)")
        }
    }
}
