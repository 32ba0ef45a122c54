import CLibPQ

extension PGConnection {
    /// Runs `COPY … FROM STDIN` and streams `data` (COPY text or binary format) to it; returns the rows copied.
    @discardableResult
    public func copyIn(_ sql: String, data: [UInt8]) throws -> Int {
        let conn = try connection()
        try startCopy(conn, sql, expecting: PGRES_COPY_IN)
        var offset = 0
        try data.withUnsafeBufferPointer { buffer in
            while offset < buffer.count {
                let count = min(1 << 16, buffer.count - offset)
                let state = buffer.baseAddress!.advanced(by: offset)
                    .withMemoryRebound(to: CChar.self, capacity: count) {
                    PQputCopyData(conn, $0, Int32(count))
                }
                if state < 0 { throw lostError(conn) }
                if state == 1 { offset += count; continue }
                try waitWritableDuringCopy(conn)
            }
        }
        while true {
            let state = PQputCopyEnd(conn, nil)
            if state < 0 { throw lostError(conn) }
            if state == 1 { break }
            try waitWritableDuringCopy(conn)
        }
        try flushOutgoing(conn)
        return try collectResults(conn).last?.affectedRows ?? 0
    }

    /// Runs `COPY … TO STDOUT` and returns everything it sent.
    public func copyOut(_ sql: String) throws -> [UInt8] {
        let conn = try connection()
        try startCopy(conn, sql, expecting: PGRES_COPY_OUT)
        var output: [UInt8] = []
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let count = PQgetCopyData(conn, &buffer, 1)
            if count > 0, let buffer {
                output.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: Int(count)))
                PQfreemem(buffer)
            } else if count == 0 {
                let (readable, _) = try waitSocket(read: true, write: false)
                if readable && PQconsumeInput(conn) == 0 { throw lostError(conn) }
            } else if count == -1 {
                break
            } else {
                throw lostError(conn)
            }
        }
        _ = try collectResults(conn)
        return output
    }

    /// Sends a COPY statement and checks that the server entered the expected COPY state.
    private func startCopy(_ conn: OpaquePointer, _ sql: String, expecting expected: ExecStatusType) throws {
        guard PQsendQuery(conn, sql) == 1 else { throw sendError(conn) }
        try flushOutgoing(conn)
        guard let result = try nextResult(conn) else { throw lostError(conn) }
        let status = PQresultStatus(result)
        guard status == expected else {
            let error = status == PGRES_FATAL_ERROR
                ? PGError(result: result)
                : PGError(.protocolViolation, "statement did not start the expected COPY")
            PQclear(result)
            _ = try? collectResults(conn)
            throw error
        }
        PQclear(result)
    }

    /// Waits for room to send more COPY data; on cancellation ends the COPY with an error so nothing is applied.
    private func waitWritableDuringCopy(_ conn: OpaquePointer) throws {
        do {
            let (readable, _) = try waitSocket(read: true, write: true)
            if readable && PQconsumeInput(conn) == 0 { throw lostError(conn) }
        } catch is CancellationError {
            PQputCopyEnd(conn, "cancelled by walbridge")
            _ = try? flushOutgoing(conn, cancellable: false)
            close()
            throw CancellationError()
        }
    }
}
