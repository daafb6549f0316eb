import Diagnostics
import Foundation
import XCTest
@testable import Warranty

/// A fresh directory per test, removed afterwards.
func makeTemporaryDirectory(_ name: String = #function) throws -> URL {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("ledsentry-warranty-\(safe)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The repository root, found from this file's path (Tests/WarrantyTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func sampleProduct(_ serial: String = "KJ-2025-0042", _ mutate: (inout Product) -> Void = { _ in }) -> Product {
    var p = Product(serial: serial, model: "KJ-P3.9 outdoor", warrantyCardNumber: "WC-7781", customer: "Riverside Arena",
                    contractDate: "2025-06-01", warrantyMonths: 24, contactName: "Li Wei",
                    contactPhone: "+86 23 5555 0101", screenWidth: 1024, screenHeight: 512)
    mutate(&p)
    return p
}

let runDay = Product.parseDate("2026-11-25")!

/// A real store in a temporary directory, with the built-in policy.
struct Fixture {
    let dir: URL
    let store: WarrantyStore
    let intake: WarrantyIntake

    init(dir: URL, hooks: [Hook] = [], products: [Product] = [sampleProduct()]) throws {
        self.dir = dir
        store = try WarrantyStore(path: dir.appendingPathComponent("warranty.sqlite"), hooks: hooks)
        for p in products { try store.addProduct(p) }
        intake = WarrantyIntake(store: store, policy: try WarrantyPolicy.builtIn())
    }

    @discardableResult
    func ingest(_ findings: [Finding], serial: String = "KJ-2025-0042", evidence: [URL] = [], partial: Bool = false,
                at: Date = runDay, bundles: Bool = false) throws -> WarrantyIntake.Summary {
        try intake.ingest(findings: FindingList(findings: findings), productSerial: serial,
                          evidence: evidence.map { .init(url: $0) },
                          options: .init(actor: "test", now: at, bundleDirectory: bundles ? dir.appendingPathComponent("bundles") : nil,
                                         coversWholeProduct: !partial))
    }

    func file(_ name: String, _ contents: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(contents.utf8).write(to: url)
        return url
    }
}

let deadModule = Finding(source: .optical, location: FaultLocation(cabinet: 2, module: 5), kind: .deadModule,
                         evidence: [EvidenceReference(name: "annotated.png", role: .annotatedImage)])
let hotCabinet = Finding(source: .electrical, location: FaultLocation(cabinet: 3), kind: .overTemperature,
                         measurements: [MeasuredValue(name: "temperature", value: 92, unit: "C", limit: 75)])
let brokenChain = Finding(source: .telemetry, location: FaultLocation(cabinet: 4, module: 2), kind: .dataChainBroken)
