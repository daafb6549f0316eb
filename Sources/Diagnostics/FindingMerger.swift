/// Merges findings of the same fault: same kind at the same place (by `FaultLocation.canonical`),
/// seen by several sources (the electrical readback, a capture, the module test, telemetry,
/// the event log). The result keeps every measurement and every evidence file once, and
/// says in `attributes["seen-by"]` which sources saw it; its `source` is the first finding's
/// (callers list electrical findings first: they name the exact channel).
public enum FindingMerger {
    public static let seenByKey = "seen-by"

    public static func merge(_ findings: [Finding]) -> [Finding] {
        var order: [String] = []
        var merged: [String: Finding] = [:]
        for finding in findings {
            let key = finding.kind.rawValue + "|" + finding.location.canonical
            guard var existing = merged[key] else {
                order.append(key)
                var first = finding
                first.attributes[seenByKey] = seenBy(finding).joined(separator: ",")
                merged[key] = first
                continue
            }
            for m in finding.measurements where !existing.measurements.contains(m) { existing.measurements.append(m) }
            for e in finding.evidence where !existing.evidence.contains(e) { existing.evidence.append(e) }
            let sources = (existing.attributes[seenByKey] ?? "").split(separator: ",").map(String.init)
            for (key, value) in finding.attributes where key != seenByKey && existing.attributes[key] == nil {
                existing.attributes[key] = value
            }
            existing.attributes[seenByKey] = (sources + seenBy(finding).filter { !sources.contains($0) }).joined(separator: ",")
            if existing.detail == nil { existing.detail = finding.detail }
            if existing.observedAt == nil { existing.observedAt = finding.observedAt }
            merged[key] = existing
        }
        return order.map { merged[$0]! }
    }

    static func seenBy(_ finding: Finding) -> [String] {
        finding.attributes[seenByKey].map { $0.split(separator: ",").map(String.init) } ?? [finding.source.rawValue]
    }
}
