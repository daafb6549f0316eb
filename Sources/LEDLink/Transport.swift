/// A point in time by which an I/O call must finish. Every blocking call takes one.
public typealias Deadline = ContinuousClock.Instant

extension Deadline {
    /// A deadline `milliseconds` from now.
    public static func after(milliseconds: Int) -> Deadline {
        .now + .milliseconds(milliseconds)
    }
}

/// Bytes to and from one device. Implementations: serial (libserialport), a plain
/// termios backend for pseudo-terminals, USB bulk (libusb), and record / replay.
///
/// Calls block the calling thread until done or until the deadline; callers that want
/// async run them off the cooperative pool. One transport is used by one client at a time.
public protocol Transport: AnyObject {
    /// What a person calls this port in a message: a path, "usb:VID:PID serial", a file.
    var portName: String { get }
    /// Writes all of `bytes` or throws.
    func write(_ bytes: [UInt8], deadline: Deadline) throws(LinkError)
    /// Returns 1...`maxCount` bytes as soon as any are available; throws `.timedOut` when
    /// none arrive by the deadline and `.disconnected` when the device has gone.
    func read(maxCount: Int, deadline: Deadline) throws(LinkError) -> [UInt8]
    /// Discards bytes received but not yet read (used before a retry).
    func discardInput() throws(LinkError)
    /// Releases the device. Later calls throw `.disconnected`.
    func close()
}
