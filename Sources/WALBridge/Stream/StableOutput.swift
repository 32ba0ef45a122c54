import PGClient
import PGOutput

/// Session settings that fix how values are printed, so text read from the stream and from queries agree.
enum StableOutput {
    static let settings =
        "SET datestyle = 'ISO, YMD'; SET intervalstyle = 'postgres'; SET timezone = 'UTC'; SET extra_float_digits = 3; "
        + "SET bytea_output = 'hex'"
}
