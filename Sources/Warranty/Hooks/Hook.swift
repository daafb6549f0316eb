import Foundation
import Yams

/// Something that happened to a case, which hooks may subscribe to.
public enum HookEvent: String, Codable, Sendable, CaseIterable {
    case caseOpened = "case.opened"
    case stateChanged = "case.state-changed"
    case evidenceAdded = "case.evidence-added"
    case faultAbsent = "case.fault-absent"
}

/// One configured hook: a command that gets the event JSON on stdin, and/or an HTTP POST of
/// the same JSON signed with HMAC-SHA256 (see Docs/warranty.md, "Hooks").
public struct Hook: Codable, Sendable, Hashable {
    public var name: String
    /// Events to deliver; all of them when absent.
    public var events: [HookEvent]?
    /// argv of a command; run without a shell.
    public var command: [String]?
    public var url: String?
    /// The HMAC key, or the name of an environment variable holding it (`secretEnv`).
    public var secret: String?
    public var secretEnv: String?
    /// Seconds a single delivery may take.
    public var timeout: Double?

    public init(name: String, events: [HookEvent]? = nil, command: [String]? = nil, url: String? = nil,
                secret: String? = nil, secretEnv: String? = nil, timeout: Double? = nil) {
        self.name = name
        self.events = events
        self.command = command
        self.url = url
        self.secret = secret
        self.secretEnv = secretEnv
        self.timeout = timeout
    }

    public func wants(_ event: HookEvent) -> Bool { events?.contains(event) ?? true }

    public var resolvedSecret: String? {
        if let secretEnv, let value = ProcessInfo.processInfo.environment[secretEnv] { return value }
        return secret
    }

    /// Reads `hooks:` from a YAML or JSON file.
    public static func load(from url: URL) throws -> [Hook] {
        struct File: Codable { var hooks: [Hook] }
        do {
            let data = try Data(contentsOf: url)
            let file: File = url.pathExtension.lowercased() == "json"
                ? try JSONDecoder().decode(File.self, from: data)
                : try YAMLDecoder().decode(File.self, from: String(decoding: data, as: UTF8.self))
            var seen = Set<String>()
            for hook in file.hooks {
                guard hook.command != nil || hook.url != nil else {
                    throw HookError.invalidConfiguration("hook '\(hook.name)' has neither a command nor a url")
                }
                if let u = hook.url, URL(string: u)?.scheme.map({ ["http", "https"].contains($0) }) != true {
                    throw HookError.invalidConfiguration("hook '\(hook.name)': url '\(u)' is not an http(s) URL")
                }
                if hook.url != nil && hook.resolvedSecret == nil {
                    throw HookError.invalidConfiguration("hook '\(hook.name)' posts to a URL but has no secret (secret or secretEnv)")
                }
                guard seen.insert(hook.name).inserted else {
                    throw HookError.invalidConfiguration("two hooks are named '\(hook.name)'")
                }
            }
            return file.hooks
        } catch let error as HookError {
            throw error
        } catch {
            throw HookError.invalidConfiguration("\(url.path): \(error)")
        }
    }
}

public enum HookError: Error, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    case deliveryFailed(String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(reason): "hook configuration: \(reason)"
        case let .deliveryFailed(reason): "hook delivery failed: \(reason)"
        }
    }
}
