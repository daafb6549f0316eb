import FrameAnalysis

/// One analysed capture, as the display findings need it.
public struct OpticalResult: Sendable {
    public var pattern: FrameAnalysis.TestPattern
    public var defects: DefectMap
    /// Per LED, row-major, relative level (see `AnalysisResult.relativeLevels`), when known.
    public var relativeLevels: [Float]?
    /// The capture and its annotated picture.
    public var evidence: [EvidenceReference]

    public init(pattern: FrameAnalysis.TestPattern, defects: DefectMap, relativeLevels: [Float]? = nil,
                evidence: [EvidenceReference] = []) {
        self.pattern = pattern
        self.defects = defects
        self.relativeLevels = relativeLevels
        self.evidence = evidence
    }
}

/// Turns what the controller read back (per-LED status) and what the cameras saw (one defect
/// map per test pattern) into display Findings, one per fault:
/// - per LED, every observation is merged: an LED OPEN on red that the red capture shows dead
///   and the white capture dim is one dead-subpixel finding (channel 0) with both evidences;
/// - LEDs inside modules the module test found dark belong to that module's finding (dead
///   module, broken chain, dead cabinet), which gets the optical confirmation;
/// - single-channel failures inside a module missing a driver IC belong to that IC finding;
/// - dead LEDs that line up (rows, columns) or fill a module become dead-line / dead-module
///   findings (FrameAnalysis' `DefectGroups` on the merged map);
/// - what is left are single-LED findings: dead-led, dead-subpixel, dim-led, stuck-led.
public struct DisplayFindings {
    public let layout: WallLayout
    public var context: FindingContext

    public init(layout: WallLayout, context: FindingContext = FindingContext()) {
        self.layout = layout
        self.context = context
    }

    /// What one LED showed, from every source.
    struct Observation {
        /// Channel bit masks: 1 red, 2 green, 4 blue.
        var dead: UInt8 = 0
        var dim: UInt8 = 0
        var stuck: UInt8 = 0
        var whiteDim = false
        var electrical = false
        var patterns: [FrameAnalysis.TestPattern] = []
        var levels: [MeasuredValue] = []
    }

    static func bits(_ channel: FrameAnalysis.LEDChannel) -> UInt8 {
        switch channel {
        case .all: 7
        case .red: 1
        case .green: 2
        case .blue: 4
        }
    }

    static func channelNumbers(_ mask: UInt8) -> [Int] { (0..<3).filter { mask & (1 << $0) != 0 } }

    /// - Parameters:
    ///   - moduleFindings: the module-test findings; those named by `darkModules` and
    ///     `driverICModules` get the LEDs they explain (as measurements and evidence).
    /// - Returns: the display findings (module findings not included; they are updated in place).
    public func findings(electrical: DefectMap?, electricalEvidence: [EvidenceReference] = [],
                         optical: [OpticalResult], moduleFindings: inout [Finding],
                         darkModules: [ModuleRef: Int] = [:], driverICModules: [ModuleRef: Int] = [:]) -> [Finding] {
        let width = layout.width
        var seen: [Int: Observation] = [:]
        if let electrical {
            for d in electrical.defects {
                var o = seen[d.y * width + d.x, default: Observation()]
                o.electrical = true
                switch d.kind {
                case .dead: o.dead |= Self.bits(d.channel)
                case .dim: o.dim |= Self.bits(d.channel)
                case .stuck: o.stuck |= Self.bits(d.channel)
                }
                seen[d.y * width + d.x] = o
            }
        }
        let evidenceByPattern = Dictionary(optical.map { ($0.pattern, $0.evidence) }, uniquingKeysWith: { a, _ in a })
        for result in optical {
            for d in result.defects.defects {
                let index = d.y * width + d.x
                var o = seen[index, default: Observation()]
                switch (result.pattern, d.kind) {
                case (.white, .dead): o.dead = 7
                case (.white, .dim): o.whiteDim = true
                case (_, .stuck): o.stuck |= o.stuck == 0 ? 7 : 0  // the camera cannot tell which channel
                case (_, .dead): o.dead |= Self.bits(d.channel)
                case (_, .dim): o.dim |= Self.bits(d.channel)
                }
                if !o.patterns.contains(result.pattern) { o.patterns.append(result.pattern) }
                if let levels = result.relativeLevels, index < levels.count, levels[index].isFinite {
                    o.levels.append(MeasuredValue(name: "relative level (\(result.pattern.rawValue))",
                                                  value: (Double(levels[index]) * 1000).rounded() / 1000))
                }
                seen[index] = o
            }
        }

        func evidence(of o: Observation) -> [EvidenceReference] {
            var refs = o.electrical ? electricalEvidence : []
            for p in o.patterns { for e in evidenceByPattern[p] ?? [] where !refs.contains(e) { refs.append(e) } }
            return refs
        }
        func seenBy(_ o: Observation) -> [String] { (o.electrical ? ["electrical"] : []) + o.patterns.map { "optical:\($0.rawValue)" } }
        func note(_ sources: [String], on finding: inout Finding) {
            let before = (finding.attributes[FindingMerger.seenByKey] ?? finding.source.rawValue).split(separator: ",").map(String.init)
            finding.attributes[FindingMerger.seenByKey] = (before + sources.filter { !before.contains($0) }).joined(separator: ",")
        }

        // LEDs in dark modules and in modules missing a driver IC: explained by the module finding.
        var explained: [Int: (count: Int, opticallyDead: Int, observations: [Observation], channels: UInt8, columns: ClosedRange<Int>?)] = [:]
        for (index, o) in seen {
            let x = index % width, y = index / width
            let ref = ModuleRef(cabinet: layout.cabinet(x: x, y: y), module: layout.module(x: x, y: y))
            if let owner = darkModules[ref] {
                var e = explained[owner, default: (0, 0, [], 0, nil)]
                e.count += 1
                if o.patterns.contains(.white) && o.dead == 7 { e.opticallyDead += 1 }
                e.observations.append(o)
                explained[owner] = e
                seen[index] = nil
            } else if let owner = driverICModules[ref], o.stuck == 0, o.dead != 0 && o.dead != 7 {
                var e = explained[owner, default: (0, 0, [], 0, nil)]
                e.count += 1
                e.channels |= o.dead
                let column = x - layout.rectangle(cabinet: ref.cabinet, module: ref.module).x
                e.columns = e.columns.map { min($0.lowerBound, column)...max($0.upperBound, column) } ?? column...column
                e.observations.append(o)
                explained[owner] = e
                seen[index] = nil
            }
        }
        for (owner, e) in explained {
            var finding = moduleFindings[owner]
            let sources = Array(Set(e.observations.flatMap(seenBy))).sorted()
            note(sources, on: &finding)
            for o in e.observations { for ref in evidence(of: o) where !finding.evidence.contains(ref) { finding.evidence.append(ref) } }
            finding.measurements.append(MeasuredValue(name: "failed LEDs read back or seen", value: Double(e.count), unit: "LEDs"))
            if finding.kind == .driverICMissing {
                let channels = Self.channelNumbers(e.channels)
                if channels.count == 1 { finding.attributes["channel"] = ["red", "green", "blue"][channels[0]] }
                if let columns = e.columns { finding.attributes["module-columns"] = "\(columns.lowerBound)-\(columns.upperBound)" }
            } else {
                finding.measurements.append(MeasuredValue(name: "LEDs dark in the white capture", value: Double(e.opticallyDead), unit: "LEDs"))
            }
            moduleFindings[owner] = finding
        }

        // One verdict per remaining LED.
        struct Verdict { var kind: FaultKind; var channel: Int?; var observation: Observation }
        var verdicts: [Int: Verdict] = [:]
        for (index, o) in seen {
            let kind: FaultKind
            var channel: Int?
            if o.stuck != 0 {
                kind = .stuckLED
                channel = o.stuck == 7 ? nil : Self.channelNumbers(o.stuck).first
            } else if o.dead == 7 {
                kind = .deadLED
            } else if o.dead != 0 {
                kind = .deadSubpixel
                let channels = Self.channelNumbers(o.dead)
                channel = channels.count == 1 ? channels[0] : nil
            } else {
                kind = .dimLED
                let channels = Self.channelNumbers(o.dim)
                channel = channels.count == 1 ? channels[0] : nil
            }
            verdicts[index] = Verdict(kind: kind, channel: channel, observation: o)
        }

        // Dead lines and modules over the merged map.
        let deadDefects = verdicts.compactMap { index, v -> LEDDefect? in
            guard v.kind == .deadLED || v.kind == .deadSubpixel else { return nil }
            return LEDDefect(x: index % width, y: index / width, kind: .dead, channel: WallLayout.channel(number: v.channel))
        }
        let groups = DefectGroups(DefectMap(cols: width, rows: layout.height, defects: deadDefects), module: layout.moduleGrid)
        var results: [Finding] = []
        func groupFinding(kind: FaultKind, location: FaultLocation, members: [Int], measurements: [MeasuredValue],
                          attributes: [String: String], detail: String) -> Finding {
            let observations = members.compactMap { verdicts[$0]?.observation }
            var refs: [EvidenceReference] = []
            for o in observations { for e in evidence(of: o) where !refs.contains(e) { refs.append(e) } }
            var attributes = attributes
            attributes[FindingMerger.seenByKey] = Array(Set(observations.flatMap(seenBy))).sorted().joined(separator: ",")
            for m in members { verdicts[m] = nil }
            return Finding(source: observations.contains { $0.electrical } ? .electrical : .optical, location: location,
                           kind: kind, measurements: measurements, evidence: refs, attributes: attributes, detail: detail)
        }
        for module in groups.modules {
            let cabinet = layout.cabinet(x: module.x, y: module.y), index = layout.module(x: module.x, y: module.y)
            var members: [Int] = []
            for y in module.y..<module.y + module.height { for x in module.x..<module.x + module.width { members.append(y * width + x) } }
            results.append(groupFinding(
                kind: .deadModule,
                location: FaultLocation(productSerial: context.productSerial, controller: context.controller, cabinet: cabinet, module: index),
                members: members.filter { verdicts[$0] != nil },
                measurements: [MeasuredValue(name: "dead fraction", value: (module.deadFraction * 1000).rounded() / 1000)],
                attributes: [:], detail: "Module \(index) of cabinet \(cabinet) is dark (\(Int(module.deadFraction * 100))% of its LEDs dead)"))
        }
        for line in groups.lines {
            let members = (line.from...line.to).map { line.orientation == .row ? line.index * width + $0 : $0 * width + line.index }
                .filter { verdicts[$0] != nil }
            guard members.count >= DefectGroups.minimumLineLength else { continue }  // taken by a module above
            let location = layout.location(line: line, productSerial: context.productSerial, controller: context.controller)
            let axis = line.orientation == .row ? "row" : "column"
            let span = line.orientation == .row ? "x \(line.from)-\(line.to)" : "y \(line.from)-\(line.to)"
            results.append(groupFinding(
                kind: .deadLine, location: location, members: members,
                measurements: [MeasuredValue(name: "length", value: Double(line.length), unit: "LEDs")],
                attributes: ["from": String(line.from), "to": String(line.to)],
                detail: "Dead \(axis) \(line.index) (\(span)) in cabinet \(location.cabinet ?? 0)"
                    + (line.channel == .all ? "" : ", \(line.channel.rawValue) channel")))
        }

        // Single LEDs.
        for index in verdicts.keys.sorted() {
            let v = verdicts[index]!, o = v.observation
            let x = index % width, y = index / width
            let location = layout.location(x: x, y: y, channel: v.channel, productSerial: context.productSerial,
                                           controller: context.controller)
            let channelText = v.channel.map { " (\(["red", "green", "blue"][$0]))" } ?? ""
            results.append(Finding(source: o.electrical ? .electrical : .optical, location: location, kind: v.kind,
                                   measurements: o.levels, evidence: evidence(of: o),
                                   attributes: [FindingMerger.seenByKey: seenBy(o).joined(separator: ",")],
                                   detail: "\(v.kind.rawValue.replacingOccurrences(of: "-", with: " "))\(channelText) at LED (\(x), \(y)), cabinet \(location.cabinet!) module \(location.module!)"))
        }
        return results
    }
}
