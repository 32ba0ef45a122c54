import Foundation

/// The command line: `differential [--long] [--cutover] [--seed N] [--cases N] [--minutes M] [--size S]
/// [--walbridge PATH] [--out DIR] [--no-shrink] [--shrink-seconds S] [--keep] [--print]`.
struct Options: Sendable {
    var long = false
    /// The cut-over's long form (`CutoverLongForm`) instead of the mapping cases.
    var cutover = false
    var seed: UInt64?
    var cases: Int?
    var minutes = 60.0
    var size: Int?
    var walbridge = ".build/debug/walbridge"
    var out = "/tmp"
    var shrink = true
    /// Seconds of shrinking (default: 60 in all for the short form, 600 per failure for the long form).
    var shrinkSeconds: Double?
    /// Keep the databases of a failing run (with `--no-shrink`, on clusters the caller keeps) for inspection.
    var keep = false
    /// Print the generated case (DDL, mapping, workload) instead of running it.
    var printOnly = false

    static let usage =
        "usage: differential [--long] [--cutover] [--seed N] [--cases N] [--minutes M] [--size S] [--walbridge PATH] "
        + "[--out DIR] [--no-shrink] [--shrink-seconds S] [--keep] [--print]"

    /// Parses the arguments; nil (after printing why) when they are wrong.
    static func parse(_ arguments: [String]) -> Options? {
        var options = Options()
        var i = 0
        func value() -> String? {
            i += 1
            return i < arguments.count ? arguments[i] : nil
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--long": options.long = true
            case "--cutover": options.cutover = true
            case "--seed":
                guard let v = value(), let n = UInt64(v) else { return fail("--seed needs a number") }; options.seed = n
            case "--cases":
                guard let v = value(), let n = Int(v), n > 0 else { return fail("--cases needs a positive number") };
                options.cases = n
            case "--minutes":
                guard let v = value(), let n = Double(v), n > 0 else {
                    return fail("--minutes needs a positive number")
                }; options.minutes = n
            case "--size":
                guard let v = value(), let n = Int(v), n > 0 else { return fail("--size needs a positive number") };
                options.size = n
            case "--walbridge":
                guard let v = value() else { return fail("--walbridge needs a path") }; options.walbridge = v
            case "--out": guard let v = value() else { return fail("--out needs a directory") }; options.out = v
            case "--no-shrink": options.shrink = false
            case "--shrink-seconds":
                guard let v = value(), let n = Double(v), n > 0 else {
                    return fail("--shrink-seconds needs a positive number")
                }; options.shrinkSeconds = n
            case "--keep": options.keep = true
            case "--print": options.printOnly = true
            case "-h", "--help":
                print(usage)
                exit(0)
            default: return fail("unknown argument \(arguments[i])")
            }
            i += 1
        }
        return options
    }

    private static func fail(_ message: String) -> Options? {
        FileHandle.standardError.write(Data("differential: \(message)\n\(usage)\n".utf8))
        return nil
    }
}
