import LEDLink

/// The ways a controller request can fail. Every case names the port, the request, and
/// what came back, so the message alone is enough to act on.
public enum ControllerError: Error, Sendable, CustomStringConvertible {
    /// The transport failed: unplugged, write error, could not open.
    case link(LinkError, request: String)
    /// No valid response after every attempt; `observed` says what arrived instead.
    case noResponse(port: String, request: String, attempts: Int, observed: String)
    /// The device answered with a status other than OK; `detail` decodes its payload.
    case refused(port: String, request: String, status: Status, detail: String)
    /// A frame with a good CRC that is not a valid answer to the request.
    case badResponse(port: String, request: String, problem: String, received: [UInt8])

    public var description: String {
        switch self {
        case .link(let error, let request):
            return "\(error) (during \(request))"
        case .noResponse(let port, let request, let attempts, let observed):
            return "\(port): no valid response to \(request) after \(attempts) attempt(s); \(observed)"
        case .refused(let port, let request, let status, let detail):
            return "\(port): device refused \(request): \(status)" + (detail.isEmpty ? "" : " (\(detail))")
        case .badResponse(let port, let request, let problem, let received):
            return "\(port): invalid response to \(request): \(problem); received \(hexDump(received))"
        }
    }

    /// The device status, when the device refused the request.
    public var status: Status? {
        if case .refused(_, _, let status, _) = self { return status }
        return nil
    }
}
