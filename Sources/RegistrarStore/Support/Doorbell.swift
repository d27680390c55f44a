import Synchronization

/// Wakes idle workers the moment this process enqueues work, instead of waiting for their next poll.
/// A ring with nobody waiting is remembered once, so a worker that was busy at that moment does not sleep
/// through it.
public final class Doorbell: Sendable {
    private struct State {
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var rangWhileNobodyWaited = false
    }

    private let state = Mutex(State())

    public init() {}

    public func ring() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if state.waiters.isEmpty {
                state.rangWhileNobodyWaited = true
                return []
            }
            let all = Array(state.waiters.values)
            state.waiters.removeAll()
            return all
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns when rung, after `timeout`, or at once if the task is cancelled.
    public func wait(timeout: Duration) async {
        if Task.isCancelled { return }
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.rangWhileNobodyWaited {
                        state.rangWhileNobodyWaited = false
                        return true
                    }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow {
                    continuation.resume()
                    return
                }
                Task {
                    try? await Task.sleep(for: timeout)
                    self.wake(id)
                }
            }
        } onCancel: {
            self.wake(id)
        }
    }

    private func wake(_ id: Int) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.resume()
    }
}
