import TestSupport

/// Draws 1–2 targets per source table: renames, expressions (some mixing a changed column with a TOASTed one), casts
/// of the key, `when` splits, `on_delete` / `on_truncate`, targets keyed on a unique code, and now and then an in-place
/// target.
struct MappingGenerator {
    let schema: Schema

    /// An expression over source columns and the SQL type its target column gets.
    struct Template {
        var expression: String
        var type: String
        var reads: [Int]
    }

    /// The case's mapping.
    func generate(_ rng: inout SplitMix64) -> Mapping {
        var targets: [TargetSpec] = []
        var hot = Array(repeating: [Int](), count: schema.tables.count)
        var flips = Array(repeating: [String](), count: schema.tables.count)
        var usedNames = Set(schema.tables.map(\.name))
        let candidates = schema.tables.indices.filter { schema.tables[$0].partitioning == nil }
        let inPlaceTable = !candidates.isEmpty && rng.chance(0.15) ? rng.pick(candidates) : nil

        for (index, table) in schema.tables.enumerated() {
            if index == inPlaceTable {
                targets.append(inPlace(index, &rng))
                hot[index] += targets.last!.added.flatMap(\.reads)
            }
            let count = index == inPlaceTable ? rng.int(0...1) : rng.weighted([(1, 6), (2, 4)])
            for n in 0..<count {
                var target = self.target(index, split: n > 0, &rng)
                var name =
                    n == 0
                    ? rng.pick(["\(table.name)_v2", "\(table.name)_new", "\(table.name)V2"])
                    : rng.pick(["\(table.name)_split", "\(table.name)Part"])
                while usedNames.contains(name) { name += "_\(index)\(n)" }
                // In another database, the first table's first target has the source table's own name (a new database
                // with the same table names), which is not an in-place target there.
                if inPlaceTable == nil && index == 0 && n == 0 { name = table.name }
                usedNames.insert(name)
                target.name = name
                var whenReads: [Int] = []
                if let predicate = whenPredicate(table, &rng, rate: n > 0 ? 0.75 : 0.25) {
                    target.when = predicate.0
                    whenReads = predicate.1
                    hot[index] += predicate.1
                    flips[index].append(predicate.2)
                }
                target.onDelete = rng.weighted([(nil, 3), ("delete", 4), ("ignore", 3)])
                target.onTruncate = table.allowTruncate
                    ? rng.weighted([("truncate", 6), ("ignore", 4)])
                    : rng.weighted([("truncate", 4), ("ignore", 3), ("stop", 1), (nil, 2)])
                if target.keepsRemovedRows && table.identity != .full {
                    // Documented limit (walbridge check notes it): a kept row can't learn an unsent TOAST value of a
                    // row removed before it was read back, so its key and when read no TOASTed column unless the
                    // identity is FULL; its columns that read one are not compared.
                    let toast = Set(table.toastColumns)
                    if target.onDelete == "ignore" {
                        target.columns.removeAll { !$0.reads.allSatisfy { !toast.contains($0) } }
                    }
                    if whenReads.contains(where: toast.contains) { target.when = nil }
                }
                hot[index] += target.columns.filter { $0.reads.count > 1 }.flatMap(\.reads)
                targets.append(target)
            }
        }
        return Mapping(targets: targets, hot: hot.map { Array(Set($0)).sorted() }, flips: flips)
    }

    /// A target of source table `index`: key columns from the replica identity, then a few mapped columns.
    private func target(_ index: Int, split: Bool, _ rng: inout SplitMix64) -> TargetSpec {
        let table = schema.tables[index]
        var columns: [TargetColumn] = []
        var names = Set<String>()
        func name(for base: String, rename: Bool) -> String {
            var candidate =
                rename
                ? rng.pick([
                    "\(base)_v2", "new_\(base)", "\(base.prefix(1).uppercased())\(base.dropFirst())X", "\(base) copy"
                ]) : base
            while names.contains(candidate) { candidate += "_" }
            names.insert(candidate)
            return candidate
        }
        // Keyed on the unique code (allowed because the identity is FULL), or on the row key.
        let keyColumns = table.code != nil && rng.chance(0.6) ? [table.code!] : table.key
        var key: [String] = []
        for column in keyColumns {
            let source = table.columns[column]
            let castable: Set<SQLType> = [
                .int, .bigint, .numeric, .text, .varchar, .char6, .uuid, .inet, .enumType, .bool
            ]
            let how = rng.weighted([(0, 6), (1, 3), (2, castable.contains(source.type) ? 2 : 0)])
            let targetName = name(for: source.name, rename: how == 1)
            if how == 2 {
                columns.append(
                    TargetColumn(name: targetName, expression: "\(source.sql)::text", type: "text", reads: [column]))
            } else {
                columns.append(
                    TargetColumn(
                        name: targetName, expression: source.sql, type: source.type.sql(schema.names), reads: [column]))
            }
            key.append(targetName)
        }
        // Other columns: the TOAST column itself, a mix of a changing column with it, and expressions.
        let others = table.columns.indices.filter { !keyColumns.contains($0) }
        let toast = table.toastColumns
        if !toast.isEmpty, rng.chance(split ? 0.4 : 0.75) {
            let pick = rng.pick(toast)
            let template =
                rng.chance(0.8)
                ? Template(expression: table.columns[pick].sql, type: "text", reads: [pick]) : templates(table, pick)[1]
            columns.append(
                TargetColumn(
                    name: name(for: table.columns[pick].name, rename: rng.chance(0.3)), expression: template.expression,
                    type: template.type, reads: template.reads))
        }
        if !toast.isEmpty && rng.chance(split ? 0.5 : 0.7), let mix = mixing(table, toast: rng.pick(toast), &rng) {
            columns.append(
                TargetColumn(
                    name: name(for: "mixed", rename: false), expression: mix.expression, type: mix.type,
                    reads: mix.reads))
        }
        if rng.chance(0.3), let sum = sum(table, &rng) {
            columns.append(
                TargetColumn(
                    name: name(for: "total", rename: false), expression: sum.expression, type: sum.type,
                    reads: sum.reads))
        }
        for column in rng.sample(others.filter { !table.columns[$0].toast }, rng.int(split ? 1...2 : 2...5)) {
            let options = templates(table, column)
            let template = rng.chance(0.45) ? options[0] : rng.pick(options)
            columns.append(
                TargetColumn(
                    name: name(
                        for: table.columns[column].name,
                        rename: template.expression != table.columns[column].sql || rng.chance(0.3)),
                    expression: template.expression, type: template.type, reads: template.reads))
        }
        return TargetSpec(table: index, name: "", inPlace: false, columns: rng.shuffled(columns), key: key, when: nil)
    }

    /// An in-place target: new columns added to the legacy table, filled from its other columns.
    private func inPlace(_ index: Int, _ rng: inout SplitMix64) -> TargetSpec {
        let table = schema.tables[index]
        var columns = table.key.map {
            TargetColumn(
                name: table.columns[$0].name, expression: table.columns[$0].sql,
                type: table.columns[$0].type.sql(schema.names), reads: [$0])
        }
        var added: [TargetColumn] = []
        let taken = Set(table.columns.map(\.name))
        let sources = table.plainColumns
        for n in 0..<rng.int(1...2) {
            let template: Template
            if n == 0, let t = table.toastColumns.first, rng.chance(0.5), let mix = mixing(table, toast: t, &rng) {
                template = mix
            } else {
                let column = rng.pick(sources)
                template = rng.chance(0.5) ? templates(table, column)[0] : rng.pick(templates(table, column))
            }
            var name = rng.pick(["full_name", "display", "Derived", "total_v2", "new value"])
            while taken.contains(name) || added.contains(where: { $0.name == name }) { name += "_" }
            added.append(
                TargetColumn(name: name, expression: template.expression, type: template.type, reads: template.reads))
        }
        columns += added
        // A TRUNCATE of the legacy table empties the "target" too; the default (stop) would end the bridge.
        return TargetSpec(
            table: index, name: table.name, inPlace: true, columns: columns,
            key: table.key.map { table.columns[$0].name }, when: nil,
            onTruncate: table.allowTruncate ? "ignore" : nil, added: added)
    }

    /// `x || ':' || left(toast, 3)`: a column that updates change, mixed with one they leave unchanged in TOAST.
    private func mixing(_ table: SourceTable, toast: Int, _ rng: inout SplitMix64) -> Template? {
        let texts = table.columns.indices.filter {
            table.columns[$0].type.isTextLike && !table.columns[$0].toast && table.columns[$0].role == .plain
        }
        let numbers = table.columns.indices.filter {
            [.int, .bigint, .domainInt].contains(table.columns[$0].type) && table.columns[$0].role == .plain
        }
        let t = table.columns[toast].sql
        if let x = texts.isEmpty ? nil : rng.pick(texts) {
            let form = rng.int(0...2)
            let xs = table.columns[x].sql
            switch form {
            case 0: return Template(expression: "\(xs) || ':' || left(\(t), 3)", type: "text", reads: [x, toast])
            case 1:
                return Template(
                    expression: "coalesce(\(xs), '') || ':' || coalesce(left(\(t), 3), '')", type: "text",
                    reads: [x, toast])
            default: return Template(expression: "concat_ws('/', \(xs), length(\(t)))", type: "text", reads: [x, toast])
            }
        }
        if let n = numbers.isEmpty ? nil : rng.pick(numbers) {
            return Template(
                expression: "\(table.columns[n].sql)::text || ':' || left(\(t), 3)", type: "text", reads: [n, toast])
        }
        return nil
    }

    /// `a::numeric + b::numeric` over two number columns, or `price::numeric / 100`.
    private func sum(_ table: SourceTable, _ rng: inout SplitMix64) -> Template? {
        let numbers = table.columns.indices.filter {
            table.columns[$0].type.isNumberLike && table.columns[$0].role == .plain
        }
        guard let a = numbers.first else { return nil }
        if numbers.count >= 2 && rng.chance(0.6) {
            let pair = rng.sample(numbers, 2)
            return Template(
                expression: "\(table.columns[pair[0]].sql)::numeric + \(table.columns[pair[1]].sql)::numeric",
                type: "numeric", reads: pair)
        }
        return Template(expression: "\(table.columns[a].sql)::numeric / 100", type: "numeric", reads: [a])
    }

    /// The ways to map one source column of `table`; the first is the column itself.
    func templates(_ table: SourceTable, _ index: Int) -> [Template] {
        let column = table.columns[index]
        let q = column.sql
        func t(_ expression: String, _ type: String) -> Template {
            Template(expression: expression, type: type, reads: [index])
        }
        var options = [t(q, column.toast ? "text" : column.type.sql(schema.names))]
        switch column.type {
        case .text, .varchar, .char6, .domainText:
            if column.toast {
                options += [t("left(\(q), 10)", "text"), t("length(\(q))", "integer"), t("md5(\(q))", "text")]
            } else {
                options += [
                    t("upper(\(q))", "text"), t("coalesce(\(q), '')", "text"), t("\(q) || '!'", "text"),
                    t("length(\(q))", "integer"), t("lower(\(q))", "text")
                ]
            }
        case .int, .bigint, .domainInt:
            options += [
                t("\(q)::numeric * 2", "numeric"), t("\(q)::text", "text"), t("(\(q) > 10)", "boolean"),
                t("\(q)::numeric / 100", "numeric")
            ]
        case .numeric:
            options += [t("\(q) * 100", "numeric"), t("round(\(q))", "numeric"), t("\(q)::text", "text")]
        case .bool:
            options += [t("NOT \(q)", "boolean"), t("CASE WHEN \(q) THEN 'yes' ELSE 'no' END", "text")]
        case .uuid:
            options += [t("\(q)::text", "text"), t("upper(\(q)::text)", "text")]
        case .inet:
            options += [
                t("host(\(q))", "text"), t("masklen(\(q))", "integer"), t("\(q)::text", "text"),
                t("family(\(q))", "integer")
            ]
        case .timestamptz:
            options += [t("\(q) + interval '1 hour'", "timestamptz"), t("extract(epoch FROM \(q))", "numeric")]
        case .date:
            options += [t("\(q) + 1", "date"), t("extract(year FROM \(q))", "numeric")]
        case .jsonb:
            options += [t("\(q)->>'a'", "text"), t("jsonb_typeof(\(q))", "text"), t("\(q)::text", "text")]
        case .bytea:
            options += [t("length(\(q))", "integer"), t("md5(\(q))", "text")]
        case .intArray:
            options += [
                t("cardinality(\(q))", "integer"), t("\(q)[1]", "integer"), t("array_to_string(\(q), ',')", "text")
            ]
        case .textArray:
            options += [t("array_to_string(\(q), ',')", "text"), t("cardinality(\(q))", "integer")]
        case .enumType:
            options += [t("\(q)::text", "text")]
        }
        return options
    }

    /// A `when` predicate over a plain column (with probability `rate`), the columns it reads, and a SET clause that
    /// flips it.
    private func whenPredicate(
        _ table: SourceTable, _ rng: inout SplitMix64, rate: Double
    ) -> (String, [Int], String)? {
        guard rng.chance(rate) else { return nil }
        var options: [(String, [Int], String)] = []
        for index in table.plainColumns {
            let column = table.columns[index]
            let q = column.sql
            switch column.type {
            case .bool:
                options.append((q, [index], "\(q) = NOT coalesce(\(q), false)"))
            case .int, .bigint, .domainInt:
                options.append(("\(q) > 10", [index], "\(q) = CASE WHEN coalesce(\(q), 0) > 10 THEN 0 ELSE 11 END"))
            case .text, .varchar, .char6, .domainText:
                if column.toast {
                    options.append((
                        "\(q) IS NOT NULL", [index],
                        "\(q) = CASE WHEN \(q) IS NULL THEN repeat('t', 4000) ELSE NULL END"))
                } else {
                    options.append((
                        "coalesce(\(q), '') <> ''", [index],
                        "\(q) = CASE WHEN coalesce(\(q), '') <> '' THEN '' ELSE 'y' END"))
                    options.append((
                        "left(\(q), 1) < 'm'", [index], "\(q) = CASE WHEN left(\(q), 1) < 'm' THEN 'zz' ELSE 'aa' END"))
                }
            default:
                var sample = SplitMix64(seed: UInt64(index))
                let value = ValueGenerator.random(column.type, &sample, schema.names, nulls: 0)
                options.append((
                    "\(q) IS NOT NULL", [index],
                    "\(q) = CASE WHEN \(q) IS NULL THEN (\(value))::\(column.type.sql(schema.names)) ELSE NULL END"))
            }
        }
        return options.isEmpty ? nil : rng.pick(options)
    }
}
