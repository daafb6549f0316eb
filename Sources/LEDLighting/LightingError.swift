import LEDLink

/// The ways talking to lighting can fail, each with one meaning.
public enum LightingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The port itself failed (unplugged, busy, no such device).
    case link(LinkError)
    /// The widget did not answer a request of its own in time (reset, wrong device).
    case widgetSilent(port: String, request: String)
    /// The driver did not answer (nothing on the line) after every retry.
    case noResponse(uid: RDMUID, parameter: RDMParameter)
    /// Replies kept arriving damaged (bad checksum, wrong transaction, garbled frame).
    case badReply(uid: RDMUID, parameter: RDMParameter, detail: String)
    /// The driver refused the request and said why.
    case nacked(uid: RDMUID, parameter: RDMParameter, reason: RDMNackReason)
    /// The reply arrived but its data does not have the shape E1.20 gives it.
    case malformedData(parameter: RDMParameter, detail: String)
    /// The caller asked for something impossible (bad value, PDL too long, broadcast GET).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .link(let error): return error.description
        case .widgetSilent(let port, let request): return "\(port): the widget did not answer \(request) (is it a USB-Pro-style DMX widget?)"
        case .noResponse(let uid, let parameter): return "\(uid): no response to \(parameter)"
        case .badReply(let uid, let parameter, let detail): return "\(uid): damaged reply to \(parameter): \(detail)"
        case .nacked(let uid, let parameter, let reason): return "\(uid): \(parameter) refused: \(reason)"
        case .malformedData(let parameter, let detail): return "malformed \(parameter) data: \(detail)"
        case .invalidArgument(let what): return "invalid argument: \(what)"
        }
    }
}
