import Foundation
import LEDLighting

/// A whole-line lighting check, the lighting counterpart of a display inspection: discover
/// every driver, read who it is, its sensors and its status, optionally run its self-test,
/// and turn every fault into a warranty Finding.
public struct LightingSurvey {
    public struct Options: Sendable {
        /// Self-test to run on every driver (nil: none; 0xFF: all tests).
        public var selfTest: UInt8?
        public init(selfTest: UInt8? = nil) { self.selfTest = selfTest }
    }

    /// One driver as found.
    public struct Driver: Codable, Sendable {
        public var uid: RDMUID
        public var identity: DriverIdentity?
        public var sensors: [SensorReading]
        public var status: DriverStatus?
        public var selfTest: SelfTestResult?
        public var issues: [LightingIssue]
    }

    public struct Report: Codable, Sendable {
        public var port: String
        public var discovery: DiscoveryReport
        public var drivers: [Driver]
        public var findings: [Finding]
    }

    public let controller: RDMController
    public let port: String
    public var options: Options
    /// Called once per driver as the survey reaches it (index, count, UID).
    public var progress: ((Int, Int, RDMUID) -> Void)?

    public init(controller: RDMController, port: String, options: Options = Options()) {
        self.controller = controller
        self.port = port
        self.options = options
    }

    /// Throws only when the widget or port fails; a driver that stops answering becomes a
    /// `fixture-not-responding` finding and the survey goes on.
    public func run() throws(LightingError) -> Report {
        let discovery = try RDMDiscovery(controller: controller).run()
        let inspector = LightingInspector(controller: controller)
        var drivers: [Driver] = []
        var findings: [Finding] = []
        for (index, uid) in discovery.uids.enumerated() {
            progress?(index, discovery.uids.count, uid)
            var driver = Driver(uid: uid, identity: nil, sensors: [], status: nil, selfTest: nil, issues: [])
            do {
                driver.identity = try inspector.identity(uid)
                driver.sensors = try inspector.sensors(uid)
                driver.issues += LightingRules.issues(uid: uid, sensors: driver.sensors)
                let status = try inspector.status(uid)
                driver.status = status
                driver.issues += LightingRules.issues(status: status)
                if let test = options.selfTest {
                    let result = try inspector.selfTest(uid, test: test)
                    driver.selfTest = result
                    driver.issues += LightingRules.issues(selfTest: result)
                }
            } catch .noResponse, .badReply {
                driver.issues.append(LightingIssue(uid: uid, kind: .noResponse,
                                                   summary: "stopped answering during the survey"))
            } catch .nacked(_, let parameter, let reason) {
                driver.issues.append(LightingIssue(uid: uid, kind: .statusError,
                                                   summary: "refused \(parameter): \(reason)"))
            } catch .malformedData(let parameter, let detail) {
                driver.issues.append(LightingIssue(uid: uid, kind: .statusError,
                                                   summary: "malformed \(parameter): \(detail)"))
            }
            findings += driver.issues.map { Finding($0, port: port, identity: driver.identity) }
            drivers.append(driver)
        }
        return Report(port: port, discovery: discovery, drivers: drivers, findings: findings)
    }
}
