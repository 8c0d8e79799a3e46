import NIOCore

/// A transfer handler's retransmission timer, on the channel's event loop.
///
/// A lock-step transfer moves its deadline on every block. Cancelling and scheduling an NIO task each
/// time (an allocation, a heap insert, a removal) cost about as much as the rest of the block's work, so
/// a task is only scheduled when none is pending or the deadline moved earlier; when it fires, it looks
/// at the latest deadline and either fires that timer or waits on until it is due. As before, only the
/// latest timer fires: the state machine's older ids are forgotten.
final class TFTPRetransmitTimer {
    private let loop: any EventLoop
    private let fire: (TFTPTimerID) -> Void
    private var current: (id: TFTPTimerID, deadline: NIODeadline)?
    private var task: (scheduled: Scheduled<Void>, deadline: NIODeadline)?

    /// `fire` runs on `loop`; it should hold its handler weakly.
    init(loop: any EventLoop, fire: @escaping (TFTPTimerID) -> Void) {
        self.loop = loop
        self.fire = fire
    }

    func schedule(_ id: TFTPTimerID, after delay: Duration) {
        let deadline = NIODeadline.now() + TimeAmount(delay)
        current = (id, deadline)
        if let task, task.deadline <= deadline { return }
        arm(at: deadline)
    }

    func cancel() {
        current = nil
        task?.scheduled.cancel()
        task = nil
    }

    private func arm(at deadline: NIODeadline) {
        task?.scheduled.cancel()
        let scheduled = loop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] () -> Void in self?.expired() }
        task = (scheduled, deadline)
    }

    private func expired() {
        task = nil
        guard let current else { return }
        guard NIODeadline.now() >= current.deadline else { return arm(at: current.deadline) }
        self.current = nil
        fire(current.id)
    }
}
