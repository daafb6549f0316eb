import Diagnostics
import Foundation
import Yams

/// The three fault classes of clause 3.1.
public enum FaultClass: String, Codable, Sendable, CaseIterable {
    case quality, performance, safety
}

/// The three service types of clause 3.2.
public enum ServiceType: String, Codable, Sendable, CaseIterable {
    case remoteGuidance = "remote-guidance"
    case returnRepair = "return-repair"
    case onSite = "on-site"
}

/// The manufacturer's warranty policy as data (see Resources/konjump-policy.yaml).
/// Loaded from YAML or JSON; every rule carries the clause it comes from.
public struct WarrantyPolicy: Codable, Sendable {
    public var name: String
    public var manufacturer: String
    public var version: Int
    public var scope: Scope
    public var warrantyPeriod: WarrantyPeriod
    public var performanceStandard: PerformanceStandard
    public var faultClasses: [FaultClassRule]
    public var defaultFaultClass: ClassDecision
    public var serviceTypes: ServiceRules
    /// Remote-guidance step templates by fault kind, with a `default` entry.
    public var remoteSteps: [String: [String]]

    public struct Scope: Codable, Sendable {
        public var productTypes: [String]
        public var requireDirectPurchase: Bool
    }

    public struct WarrantyPeriod: Codable, Sendable {
        public var defaultMonths: Int
        public var requiredDocuments: String
        public var requiredContact: String
    }

    public struct FaultClassRule: Codable, Sendable {
        public var kinds: [FaultKind]
        public var `class`: FaultClass
        public var clause: String
        public var reason: String
    }

    public struct ClassDecision: Codable, Sendable, Hashable {
        public var `class`: FaultClass
        public var clause: String
        public var reason: String
    }

    public struct ServiceRules: Codable, Sendable {
        public var onSiteForSafety: Bool
        public var onSiteKinds: [FaultKind]
        public var onSiteModuleThreshold: Int
        public var remoteKinds: [FaultKind]
        public var returnRepairKinds: [FaultKind]
        public var `default`: ServiceType
        /// Customer-facing text per decision: keys are service types plus
        /// `on-site-many-modules` and `on-site-safety`.
        public var explanations: [String: Explanation]
    }

    public struct Explanation: Codable, Sendable {
        public var clause: String
        public var text: String
    }

    /// The built-in policy shipped with LEDSentry.
    public static func builtIn() throws -> WarrantyPolicy {
        guard let url = Bundle.module.url(forResource: "konjump-policy", withExtension: "yaml",
                                          subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "konjump-policy", withExtension: "yaml") else {
            throw PolicyError.missingBuiltIn
        }
        return try load(from: url)
    }

    /// Loads a policy file; `.json` is read as JSON, anything else as YAML.
    public static func load(from url: URL) throws -> WarrantyPolicy {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw PolicyError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try parse(data, json: url.pathExtension.lowercased() == "json", origin: url.path)
    }

    public static func parse(_ data: Data, json: Bool, origin: String = "policy") throws -> WarrantyPolicy {
        do {
            let policy: WarrantyPolicy
            if json {
                policy = try JSONDecoder().decode(WarrantyPolicy.self, from: data)
            } else {
                guard let text = String(data: data, encoding: .utf8) else {
                    throw PolicyError.invalid(path: origin, reason: "not UTF-8 text")
                }
                policy = try YAMLDecoder().decode(WarrantyPolicy.self, from: text)
            }
            try policy.validate(origin: origin)
            return policy
        } catch let error as PolicyError {
            throw error
        } catch {
            throw PolicyError.invalid(path: origin, reason: String(describing: error))
        }
    }

    /// Refuses a policy that would make decisions impossible to explain.
    func validate(origin: String) throws {
        for key in ["remote-guidance", "return-repair", "on-site", "on-site-many-modules", "on-site-safety"]
        where serviceTypes.explanations[key] == nil {
            throw PolicyError.invalid(path: origin, reason: "serviceTypes.explanations has no '\(key)' entry")
        }
        if remoteSteps["default"] == nil {
            throw PolicyError.invalid(path: origin, reason: "remoteSteps has no 'default' entry")
        }
        if serviceTypes.onSiteModuleThreshold < 1 {
            throw PolicyError.invalid(path: origin, reason: "serviceTypes.onSiteModuleThreshold must be at least 1")
        }
        try performanceStandard.validate(origin: origin)
    }
}

public enum PolicyError: Error, Equatable, CustomStringConvertible {
    case missingBuiltIn
    case unreadable(path: String, reason: String)
    case invalid(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingBuiltIn: "the built-in policy file is missing from the Warranty resources"
        case let .unreadable(path, reason): "cannot read policy file \(path): \(reason)"
        case let .invalid(path, reason): "policy file \(path) is not valid: \(reason)"
        }
    }
}
