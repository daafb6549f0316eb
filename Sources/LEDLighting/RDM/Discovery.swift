/// What a full discovery found and what it took.
public struct DiscoveryReport: Equatable, Sendable, Codable {
    /// Every responder found and muted, in UID order.
    public var uids: [RDMUID]
    /// UIDs that answered DISC_UNIQUE_BRANCH clearly but never acknowledged DISC_MUTE
    /// (a responder that vanished mid-discovery, or a phantom decoded from noise).
    public var unmutable: [RDMUID]
    /// DISC_UNIQUE_BRANCH requests sent, and how many of their replies collided.
    public var branches: Int
    public var collisions: Int
    /// True when the branch limit stopped the search (a line that never goes quiet).
    public var incomplete: Bool
}

/// Full RDM discovery (E1.20 section 7 and appendix C): un-mute everyone, then search
/// the UID space as a binary tree with DISC_UNIQUE_BRANCH. A clean reply names one
/// responder, which is muted and the same branch asked again; a collision (two or more
/// replies on the line, so the checksum fails) splits the branch in two.
public struct RDMDiscovery {
    public let controller: RDMController
    /// DUB retries for a single-UID branch that keeps colliding (line noise).
    public var singleUIDRetries = 3
    /// A bound on DUBs so that a responder ignoring mute cannot keep discovery running.
    public var branchLimit = 20_000
    /// Called after every branch with the UIDs found so far (progress for the CLI).
    public var progress: ((_ branches: Int, _ found: Int) -> Void)?

    public init(controller: RDMController) {
        self.controller = controller
    }

    public func run() throws(LightingError) -> DiscoveryReport {
        var found = Set<RDMUID>(), unmutable = Set<RDMUID>()
        var repeats: [RDMUID: Int] = [:]
        var branches = 0, collisions = 0
        try unMuteAll()
        var pending: [(lower: UInt64, upper: UInt64)] = [(0, RDMUID.highestDevice.rawValue)]
        var singleTries: [UInt64: Int] = [:]
        while let range = pending.popLast() {
            guard branches < branchLimit else {
                return report(found, unmutable, branches, collisions, incomplete: true)
            }
            branches += 1
            let reply = try branch(range.lower, range.upper)
            progress?(branches, found.count)
            guard case .received(let bytes) = reply, !bytes.isEmpty else { continue }
            var collided = false
            do {
                let uid = try DiscoveryResponse.decode(bytes)
                if uid.rawValue < range.lower || uid.rawValue > range.upper {
                    collided = true // a decode that cannot be right: noise summed to a checksum
                } else if found.contains(uid) {
                    // it did not stay muted; mute again, and stop asking if it persists
                    repeats[uid, default: 0] += 1
                    if repeats[uid]! <= 2, try mute(uid) { pending.append(range) } else { collided = true }
                } else if try mute(uid) {
                    found.insert(uid)
                    unmutable.remove(uid)
                    pending.append(range) // others may share this branch
                } else {
                    unmutable.insert(uid)
                    collided = true
                }
            } catch {
                collided = true
            }
            guard collided else { continue }
            collisions += 1
            if range.lower == range.upper {
                // one UID cannot collide with itself: noise; ask again a few times
                singleTries[range.lower, default: 0] += 1
                if singleTries[range.lower]! <= singleUIDRetries { pending.append(range) }
                continue
            }
            let middle = range.lower + (range.upper - range.lower) / 2
            pending.append((middle + 1, range.upper))
            pending.append((range.lower, middle))
        }
        return report(found, unmutable.subtracting(found), branches, collisions, incomplete: false)
    }

    private func report(_ found: Set<RDMUID>, _ unmutable: Set<RDMUID>, _ branches: Int, _ collisions: Int,
                        incomplete: Bool) -> DiscoveryReport {
        DiscoveryReport(uids: found.sorted(), unmutable: unmutable.sorted(), branches: branches,
                        collisions: collisions, incomplete: incomplete)
    }

    private func unMuteAll() throws(LightingError) {
        let request = controller.packet(to: .allDevices, .discovery, .discUnMute, [], 0)
        _ = try exchangeTolerant(request)
    }

    private func branch(_ lower: UInt64, _ upper: UInt64) throws(LightingError) -> RDMLineReply {
        var data: [UInt8] = []
        RDMUID(rawValue: lower).write(into: &data)
        RDMUID(rawValue: upper).write(into: &data)
        return try exchangeTolerant(controller.packet(to: .allDevices, .discovery, .discUniqueBranch, data, 0))
    }

    /// DISC_MUTE: true when the responder acknowledged (twice tried, as replies get lost).
    private func mute(_ uid: RDMUID) throws(LightingError) -> Bool {
        for _ in 0..<2 {
            let request = controller.packet(to: uid, .discovery, .discMute, [], 0)
            guard case .received(let bytes) = try exchangeTolerant(request),
                  let reply = try? RDMPacket(parsing: bytes) else { continue }
            if reply.source == uid, reply.commandClass == .discoveryResponse, reply.parameter == .discMute,
               reply.responseType == .ack, reply.transactionNumber == request.transactionNumber {
                return true
            }
        }
        return false
    }

    /// A widget that resets mid-discovery loses the request: treat one lost request as
    /// silence (the branch is retried by the tree), but give up if the widget is gone.
    private func exchangeTolerant(_ request: RDMPacket) throws(LightingError) -> RDMLineReply {
        do {
            return try controller.line.exchange(request)
        } catch .widgetSilent {
            if let retryable = controller.line as? any RetryableLine { try retryable.prepareRetry() }
            return try controller.line.exchange(request)
        }
    }
}
