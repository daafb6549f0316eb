import LEDLighting

/// Lighting issues (plain LEDLighting results) as warranty Findings, so the same policy
/// rules apply to lighting drivers as to displays.
extension Finding {
    /// - Parameters:
    ///   - port: the widget's port, recorded as the "controller" the fault was seen through.
    ///   - identity: the driver's identity when known (model and firmware go into attributes).
    public init(_ issue: LightingIssue, port: String? = nil, identity: DriverIdentity? = nil) {
        var measurements: [MeasuredValue] = []
        if let measured = issue.measured {
            let name = issue.kind == .overTemperature ? "temperature" : "sensor \(issue.sensor.map(String.init) ?? "?")"
            // the limit broken: the top of the normal range when above it, else the bottom
            let limit = (issue.normalMax.map { measured > $0 } ?? false) ? issue.normalMax : issue.normalMin
            measurements.append(MeasuredValue(name: name, value: measured, unit: issue.unit, limit: limit))
        }
        var attributes: [String: String] = ["rdm-uid": issue.uid.description, "lighting-issue": issue.kind.rawValue]
        if let sensor = issue.sensor { attributes["sensor"] = String(sensor) }
        if let id = issue.statusMessageID { attributes["status-message-id"] = "0x" + String(id, radix: 16, uppercase: true) }
        if let identity {
            attributes["model"] = identity.model ?? "model \(identity.info.modelID)"
            if let version = identity.softwareVersion { attributes["firmware"] = version }
            if let label = identity.label { attributes["device-label"] = label }
        }
        self.init(source: .lighting,
                  location: FaultLocation(controller: port, channel: identity.map { Int($0.info.startAddress) },
                                          lightingUID: issue.uid.description),
                  kind: FaultKind(issue.kind), measurements: measurements, attributes: attributes,
                  detail: issue.summary)
    }
}

extension FaultKind {
    /// The policy's names where one exists (over-temperature, lamp-failure, ...); the
    /// lighting-only kinds keep their own names and fall to the policy's default rule
    /// unless a policy names them.
    public init(_ kind: LightingIssue.Kind) {
        switch kind {
        case .overTemperature: self = .overTemperature
        case .underVoltage: self = .underVoltage
        case .overVoltage: self = .overVoltage
        case .lampFailure: self = .lampFailure
        case .noResponse: self = .fixtureNotResponding
        case .selfTestFailed: self = "lighting-self-test-failed"
        case .sensorOutOfRange: self = "lighting-sensor-out-of-range"
        case .sensorFailed: self = "lighting-sensor-failed"
        case .statusError: self = "lighting-status-error"
        }
    }
}
