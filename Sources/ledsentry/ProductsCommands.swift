import ArgumentParser
import Foundation
import Warranty

struct ProductsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "products",
        abstract: "The product registry: serial -> sales contract (clause 2 of the warranty policy).",
        subcommands: [Add.self, Show.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a product from its sales contract.",
            discussion: """
                The warranty card number or the order number is what the customer must present (clause 2, \
                3.3.1). Without either, cases still open but are marked as missing it and say what to supply.

                Example:
                  ledsentry products add --serial KJ-2025-0042 --model "KJ-P3.9" \\
                    --customer "Riverside Arena" --contract-date 2025-06-01 \\
                    --warranty-months 24 --card WC-7781 --contact-name "Li Wei" \\
                    --contact-phone "+86 23 5555 0101" --screen 1024x512
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "Serial number.") var serial: String
        @Option(help: "Model name.") var model: String
        @Option(help: "led-display or lighting.") var type: String = "led-display"
        @Option(help: "Warranty card number.") var card: String?
        @Option(help: "Order number.") var order: String?
        @Option(help: "Customer (the buyer in the contract).") var customer: String
        @Option(help: "Contract date, yyyy-MM-dd.") var contractDate: String
        @Option(help: "Warranty period in months from the contract (default: the policy's).") var warrantyMonths: Int?
        @Flag(help: "Bought through a reseller, not directly from the manufacturer (outside clause 1).") var indirect = false
        @Option(help: "Contact person.") var contactName: String?
        @Option(help: "Contact phone.") var contactPhone: String?
        @Option(help: "Contact e-mail.") var contactEmail: String?
        @Option(help: "Screen size in LEDs, WIDTHxHEIGHT.") var screen: String?
        @Option(help: "The contract's ISO 13406-2 pixel class (I-IV) instead of the policy's standard.") var isoClass: String?
        @Flag(help: "Replace an existing entry.") var replace = false

        func validate() throws {
            if Product.ProductType(rawValue: type) == nil { throw ValidationError("--type must be led-display or lighting") }
            if let screen, parseScreen(screen) == nil { throw ValidationError("--screen must look like 1920x1080") }
            if let isoClass, ISOPixelClass(rawValue: isoClass.uppercased()) == nil { throw ValidationError("--iso-class must be I, II, III or IV") }
        }

        func run() async throws {
            try await runReporting(json: store.json) {
                let size = screen.flatMap(parseScreen)
                let product = Product(
                    serial: serial, model: model, type: Product.ProductType(rawValue: type) ?? .ledDisplay,
                    warrantyCardNumber: card, orderNumber: order, customer: customer, contractDate: contractDate,
                    warrantyMonths: warrantyMonths, purchasedDirect: !indirect, contactName: contactName,
                    contactPhone: contactPhone, contactEmail: contactEmail, screenWidth: size?.0, screenHeight: size?.1,
                    performanceStandard: isoClass.map { PerformanceStandard(standard: .iso13406_2, isoClass: ISOPixelClass(rawValue: $0.uppercased())) })
                try store.openStore().addProduct(product, replace: replace)
                if store.json { printJSON(product) } else {
                    print("registered \(serial)" + (product.hasWarrantyDocument ? "" : " (no warranty card or order number yet: cases will ask for it)"))
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one product and whether it is in warranty today, or list all.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Serial number (omit to list all).") var serial: String?
        @Option(help: "Judge the warranty on this date, yyyy-MM-dd (default: today).") var at: String?
        @Option(help: "Policy file instead of the built-in one.") var policy: String?

        func run() async throws {
            try await runReporting(json: store.json) {
                let warrantyStore = try store.openStore()
                let engine = PolicyEngine(policy: try policy.map { try WarrantyPolicy.load(from: URL(fileURLWithPath: $0)) } ?? .builtIn())
                let day = at.flatMap(parseDay) ?? Date()
                let products: [Product]
                if let serial {
                    guard let p = try warrantyStore.product(serial: serial) else { throw RegistryError.unknownProduct(serial: serial) }
                    products = [p]
                } else {
                    products = try warrantyStore.products()
                }
                struct Line: Encodable { var product: Product; var scope: ScopeDecision; var missing: [String] }
                let lines = products.map { Line(product: $0, scope: engine.scope(of: $0, on: day), missing: engine.missingDocuments(of: $0).map(\.text)) }
                if store.json { printJSON(serial == nil ? AnyEncodableArray(lines) : AnyEncodableArray([lines[0]])); return }
                printTable(["SERIAL", "MODEL", "CUSTOMER", "CARD/ORDER", "CONTRACT", "WARRANTY", "UNTIL", "CONTACT"],
                           lines.map { l in
                               let p = l.product
                               return [p.serial, p.model, p.customer, p.warrantyCardNumber ?? p.orderNumber ?? "MISSING",
                                       p.contractDate, l.scope.status.rawValue, l.scope.warrantyEnds ?? "?",
                                       [p.contactName, p.contactPhone, p.contactEmail].compactMap { $0 }.joined(separator: ", ")]
                           })
                for l in lines { for m in l.missing { print("\(l.product.serial): \(m)") } }
            }
        }
    }
}

/// Encodes an array of any encodable lines.
struct AnyEncodableArray<T: Encodable>: Encodable {
    let items: [T]
    init(_ items: [T]) { self.items = items }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(items)
    }
}
