/// A bounds-checked big-endian cursor over raw bytes; failed reads throw a `DecodeError` naming `message` and the
/// offset.
public struct ByteReader {
    /// The bytes being read.
    public let bytes: UnsafeRawBufferPointer
    /// The message kind that errors name.
    public var message: String
    /// The offset of the next byte to read.
    public private(set) var offset = 0
    /// The array `bytes` points into, if any: values are then slices of it rather than copies.
    let storage: ArraySlice<UInt8>?

    /// Starts reading at the first byte of `bytes`; `storage`, if given, must be the array `bytes` points into.
    public init(_ bytes: UnsafeRawBufferPointer, message: String, storage: ArraySlice<UInt8>? = nil) {
        self.bytes = bytes
        self.message = message
        self.storage = storage
    }

    /// The number of bytes not read yet.
    public var remaining: Int { bytes.count - offset }

    /// An error for the current message at `offset` (the current offset by default).
    public func failure(_ reason: String, at offset: Int? = nil) -> DecodeError {
        DecodeError(message: message, offset: offset ?? self.offset, reason: reason)
    }

    /// Throws unless `count` more bytes can be read.
    @inline(__always)
    func need(_ count: Int) throws(DecodeError) {
        if count > remaining {
            throw shortage(count)
        }
    }

    /// The error for reading `count` bytes past the end.
    @inline(never)
    func shortage(_ count: Int) -> DecodeError {
        failure("needs \(count) byte\(count == 1 ? "" : "s"), \(remaining) left")
    }

    /// Reads one big-endian integer.
    @inline(__always)
    private mutating func readInteger<T: FixedWidthInteger>(_: T.Type) throws(DecodeError) -> T {
        let size = MemoryLayout<T>.size
        try need(size)
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(bigEndian: value)
    }

    /// Reads one byte.
    public mutating func readUInt8() throws(DecodeError) -> UInt8 { try readInteger(UInt8.self) }
    /// Reads a big-endian UInt16.
    public mutating func readUInt16() throws(DecodeError) -> UInt16 { try readInteger(UInt16.self) }
    /// Reads a big-endian Int32.
    public mutating func readInt32() throws(DecodeError) -> Int32 { try readInteger(Int32.self) }
    /// Reads a big-endian UInt32.
    public mutating func readUInt32() throws(DecodeError) -> UInt32 { try readInteger(UInt32.self) }
    /// Reads a big-endian Int64.
    public mutating func readInt64() throws(DecodeError) -> Int64 { try readInteger(Int64.self) }
    /// Reads a big-endian UInt64.
    public mutating func readUInt64() throws(DecodeError) -> UInt64 { try readInteger(UInt64.self) }
    /// Reads an XLogRecPtr.
    public mutating func readLSN() throws(DecodeError) -> LSN { LSN(try readUInt64()) }
    /// Reads a TimestampTz.
    public mutating func readTimestamp() throws(DecodeError) -> PGTimestamp { PGTimestamp(rawValue: try readInt64()) }

    /// Reads a NUL-terminated string; invalid UTF-8 is replaced with U+FFFD.
    public mutating func readCString() throws(DecodeError) -> String {
        var end = offset
        while end < bytes.count, bytes[end] != 0 {
            end += 1
        }
        guard end < bytes.count else {
            throw failure("string has no terminating NUL")
        }
        let string = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), as: UTF8.self)
        offset = end + 1
        return string
    }

    /// Reads an Int32 byte count, which must not be negative.
    public mutating func readLength() throws(DecodeError) -> Int {
        let start = offset
        let length = try readInt32()
        guard length >= 0 else {
            throw failure("negative length \(length)", at: start)
        }
        return Int(length)
    }

    /// Copies the next `count` bytes.
    public mutating func readBytes(_ count: Int) throws(DecodeError) -> [UInt8] {
        guard count >= 0 else {
            throw failure("negative length \(count)")
        }
        try need(count)
        let value = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
        offset += count
        return value
    }

    /// The next `count` bytes: a slice of `storage` (no copy) when there is one, else a copy.
    public mutating func readSlice(_ count: Int) throws(DecodeError) -> ArraySlice<UInt8> {
        guard count >= 0 else {
            throw failure("negative length \(count)")
        }
        try need(count)
        let start = offset
        offset += count
        guard let storage else {
            return ArraySlice(UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
        }
        return storage[storage.startIndex + start..<storage.startIndex + offset]
    }

    /// Throws if any bytes are left after a message.
    public func expectEnd() throws(DecodeError) {
        if remaining != 0 {
            throw failure("\(remaining) trailing byte\(remaining == 1 ? "" : "s") after the message")
        }
    }
}
