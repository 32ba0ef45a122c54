import Yams

/// Composing the YAML text, with Yams's errors turned into ConfigurationErrors that never quote the text.
extension ConfigurationParser {
    /// The document's root node, nil for an empty file; mappings keep their order and every node its mark.
    func compose(_ yaml: String) throws -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch {
            throw configurationError(for: error, in: yaml)
        }
    }

    /// The ConfigurationError for a failure to compose `yaml`.
    private func configurationError(for error: any Error, in yaml: String) -> ConfigurationError {
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let during =
                context.map { " (\($0.text) that starts at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return ConfigurationError(
                file: file, line: mark.line, column: mark.column, path: "", message: "invalid YAML: \(problem)\(during)"
            )
        case .reader(let problem, let offset, _, _):
            let place = offset.flatMap { YAMLText.position(ofCharacter: $0, in: yaml) }
            return ConfigurationError(
                file: file, line: place?.line, column: place?.column, path: "", message: "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            guard let repeated = DuplicateKeyLocator.locate(key: key, first: context.mark, in: yaml) else {
                return ConfigurationError(
                    file: file, line: context.mark.line, column: context.mark.column, path: key,
                    message: "appears more than once in the same mapping; keep one")
            }
            return ConfigurationError(
                file: file, line: repeated.mark.line, column: repeated.mark.column, path: repeated.path,
                message: "appears twice in the same mapping (first on line \(context.mark.line)); keep one")
        default:
            return ConfigurationError(
                file: file, line: nil, column: nil, path: "", message: "cannot be read as YAML: \(error)")
        }
    }
}
