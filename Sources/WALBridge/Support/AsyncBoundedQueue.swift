/// A first-in first-out queue between two tasks that makes the producer wait while it is full,
/// so a fast reader cannot run ahead of the applier by more than `capacity` elements.
actor AsyncBoundedQueue<Element: Sendable> {
    private let capacity: Int
    /// Queued elements from `head` on; taken ones are cleared at once, so they do not hold memory until compaction.
    private var elements: [Element?] = []
    private var head = 0
    private var finished: Result<Void, Error>?
    private var waitingConsumer: CheckedContinuation<Void, Never>?
    private var waitingProducers: [CheckedContinuation<Void, Never>] = []

    /// A queue holding at most `capacity` elements.
    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The number of elements waiting.
    var count: Int { elements.count - head }

    /// Whether the queue was finished (by either side).
    var isFinished: Bool { finished != nil }

    /// Adds an element, waiting while the queue is full; does nothing once the queue is finished.
    func send(_ element: Element) async {
        while count >= capacity && finished == nil {
            await withCheckedContinuation { waitingProducers.append($0) }
        }
        guard finished == nil else { return }
        elements.append(element)
        waitingConsumer?.resume()
        waitingConsumer = nil
    }

    /// Ends the queue: the consumer gets what is queued, then nil, or `error` thrown.
    func finish(throwing error: Error? = nil) {
        guard finished == nil else { return }
        finished = error.map { .failure($0) } ?? .success(())
        waitingConsumer?.resume()
        waitingConsumer = nil
        wakeProducers()
    }

    /// The next element, waiting for one; nil when finished and drained.
    func next() async throws -> Element? {
        while count == 0 {
            if let finished {
                try finished.get()
                return nil
            }
            await withCheckedContinuation { waitingConsumer = $0 }
        }
        let element = elements[head]
        elements[head] = nil
        head += 1
        if head > 1024 && head * 2 > elements.count {
            elements.removeFirst(head)
            head = 0
        }
        wakeProducers()
        return element
    }

    private func wakeProducers() {
        let producers = waitingProducers
        waitingProducers.removeAll()
        producers.forEach { $0.resume() }
    }
}
