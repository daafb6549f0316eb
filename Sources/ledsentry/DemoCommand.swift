import ArgumentParser
import Diagnostics
import Foundation
import LEDControllers
import Warranty

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The whole thing on the emulator: faults in, warranty cases out. Nothing to start by hand.",
        discussion: """
            Starts Firmware/build/ledsentry-emu with the faults below on a small
            wall (2x2 cabinets of 2x2 modules of 32x16 LEDs) writing --frame-out,
            registers the demo product \(demoProductSerial) in the demo store,
            runs `ledsentry inspect` with the simulated camera, and ends with the
            cases opened: fault class, service type, policy clause, evidence
            bundle and annotated pictures. Run it again: the same faults update
            the same cases, no duplicate opens. Exit 0 unless something failed.

            The demo store is $LEDSENTRY_HOME/demo/warranty.sqlite, else
            ~/.local/share/ledsentry/demo/warranty.sqlite (or --db). Look at it
            afterwards with `ledsentry cases list --db <that path>`.

            Preset faults:
            \(demoFaults.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { "  " + $0 }.joined(separator: "\n"))
            """)

    @Option(help: ArgumentHelp("The demo's warranty store (default: see above).", valueName: "path")) var db: String?
    @Flag(help: "Print the inspection and the cases as one JSON document.") var json = false

    var demoStoreURL: URL {
        if let db { return URL(fileURLWithPath: db) }
        let home = ProcessInfo.processInfo.environment["LEDSENTRY_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/ledsentry")
        return home.appendingPathComponent("demo/warranty.sqlite")
    }

    func run() async throws {
        let storeURL = demoStoreURL
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ledsentry-demo-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let faultFile = scratch.appendingPathComponent("faults.txt"), frameFile = scratch.appendingPathComponent("frame.ppm")
        try Data(demoFaults.utf8).write(to: faultFile)

        let emulator = try await runLinkCommand {
            try EmulatorProcess(executable: try locateLinkEmulator(),
                                arguments: ["--seed", "42", "--cabinets", "2x2", "--modules", "2x2", "--module-size", "32x16",
                                            "--faults", faultFile.path, "--frame-out", frameFile.path], quiet: true)
        }
        defer { emulator.stop() }

        var store = try StoreOptions.parse(["--db", storeURL.path] + (json ? ["--json"] : []))
        store.json = json
        try await inspectReporting(json: json) {
            try FileManager.default.createDirectory(at: storeURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            let warrantyStore = try store.openStore()
            if try warrantyStore.product(serial: demoProductSerial) == nil {
                try warrantyStore.addProduct(demoProduct())
            }
        }
        if !json {
            print("== Demo ==")
            print("Emulator on \(emulator.portPath) (wall 128x64 LEDs), faults injected:")
            demoFaults.split(separator: "\n").filter { !$0.hasPrefix("#") }.forEach { print("  \($0)") }
            print("Demo store: \(storeURL.path) (product \(demoProductSerial))\n")
        }
        var source = try CaptureOptions.parse([])
        source.simulatedCamera = frameFile.path
        try await InspectRun(port: emulator.portPath, source: source, productSerial: demoProductSerial, store: store,
                             actor: "ledsentry demo", policyPath: nil, evidenceDir: nil).perform()
        if !json {
            print("\nDone; the emulator is stopped. Run `make demo` again: the same cases are updated, none is added.")
            print("Next: ledsentry cases list --db \(storeURL.path)")
        }
    }

    /// The demo product: bought directly, in warranty (contract six months ago), card and contact on file.
    func demoProduct() -> Product {
        let sixMonthsAgo = Calendar(identifier: .gregorian).date(byAdding: .month, value: -6, to: Date())!
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return Product(serial: demoProductSerial, model: "LS-SC400 wall, 2x2 cabinets P2.5", warrantyCardNumber: "WC-DEMO-0001",
                       orderNumber: "SO-DEMO-0001", customer: "Demo Customer Ltd.", contractDate: f.string(from: sixMonthsAgo),
                       warrantyMonths: 24, contactName: "Alex Demo", contactPhone: "+86 23 0000 0000",
                       contactEmail: "alex@example.com", screenWidth: 128, screenHeight: 64)
    }
}

let demoProductSerial = "DEMO-WALL-0001"

/// The demo's faults on a 2x2-cabinet wall of 2x2 modules of 32x16 LEDs (cabinets 64x32):
/// one of each kind a service engineer meets (Firmware/README.md has the grammar). The single
/// LEDs sit in modules that already have a module fault, so the wall has three failed modules,
/// below the policy's on-site threshold of four, and the cases show all three service types.
/// (Tests/DiagnosticsTests/InspectSupport.swift keeps the same list.)
let demoFaults = """
    # ledsentry demo: faults injected into the emulator
    dead-led cabinet=0 x=50 y=5
    dead-led cabinet=3 x=20 y=3 channel=red
    stuck-led cabinet=0 x=60 y=10 channel=green
    dim-led cabinet=3 x=10 y=8 level=45
    dead-row cabinet=1 y=12
    dead-module cabinet=2 module=0
    chain-break cabinet=3 after=1
    missing-ic cabinet=0 module=1 ic=2
    calibration-mismatch cabinet=3 module=0
    over-temperature cabinet=0 celsius=85
    """
