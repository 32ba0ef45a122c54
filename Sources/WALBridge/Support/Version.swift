/// The walbridge release this build is.
public let walbridgeVersion = "0.1.0"
