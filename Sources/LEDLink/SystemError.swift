#if canImport(Glibc)
import Glibc
#endif

/// The text the C library gives for an errno value.
func errnoMessage(_ code: Int32) -> String {
    String(cString: strerror(code))
}

extension LinkError {
    /// Maps the errno of a failed open(2) to the error a person can act on.
    static func opening(_ port: String, errno code: Int32) -> LinkError {
        switch code {
        case ENOENT, ENXIO, ENODEV: return .notFound(port: port)
        case EACCES, EPERM:
            return .permissionDenied(port: port, hint: "add your user to the 'dialout' group "
                + "or install the udev rule in Docs/usb-and-serial.md")
        case EBUSY: return .busy(port: port)
        default: return .system(port: port, operation: "open", code: code, message: errnoMessage(code))
        }
    }

    /// Maps the errno of a failed I/O call; EIO and friends on a terminal mean hang-up.
    static func io(_ port: String, operation: String, errno code: Int32) -> LinkError {
        switch code {
        case EIO, ENXIO, ENODEV, EBADF, EPIPE, ECONNRESET: return .disconnected(port: port)
        default: return .system(port: port, operation: operation, code: code, message: errnoMessage(code))
        }
    }
}
