import Foundation

/// One product as the sales contract describes it (clause 2): who bought it, when, for how
/// long it is under warranty, and the papers that prove it.
public struct Product: Codable, Sendable, Hashable {
    public enum ProductType: String, Codable, Sendable, CaseIterable {
        case ledDisplay = "led-display"
        case lighting
    }

    public var serial: String
    public var model: String
    public var type: ProductType
    public var warrantyCardNumber: String?
    public var orderNumber: String?
    public var customer: String
    /// The contract date, `yyyy-MM-dd`; the warranty period starts here.
    public var contractDate: String
    public var warrantyMonths: Int?
    /// Clause 1 covers products bought directly from the manufacturer only.
    public var purchasedDirect: Bool
    public var contactName: String?
    public var contactPhone: String?
    public var contactEmail: String?
    /// Screen size in LEDs, so failed-LED rates can be computed.
    public var screenWidth: Int?
    public var screenHeight: Int?
    /// A performance standard agreed in this product's contract, replacing the policy default.
    public var performanceStandard: PerformanceStandard?

    public init(serial: String, model: String, type: ProductType = .ledDisplay,
                warrantyCardNumber: String? = nil, orderNumber: String? = nil, customer: String,
                contractDate: String, warrantyMonths: Int? = nil, purchasedDirect: Bool = true,
                contactName: String? = nil, contactPhone: String? = nil, contactEmail: String? = nil,
                screenWidth: Int? = nil, screenHeight: Int? = nil,
                performanceStandard: PerformanceStandard? = nil) {
        self.serial = serial
        self.model = model
        self.type = type
        self.warrantyCardNumber = warrantyCardNumber
        self.orderNumber = orderNumber
        self.customer = customer
        self.contractDate = contractDate
        self.warrantyMonths = warrantyMonths
        self.purchasedDirect = purchasedDirect
        self.contactName = contactName
        self.contactPhone = contactPhone
        self.contactEmail = contactEmail
        self.screenWidth = screenWidth
        self.screenHeight = screenHeight
        self.performanceStandard = performanceStandard
    }

    /// Checks what a registry entry must have; the missing card number is allowed (the case
    /// opens and asks for it), a bad date or period is not.
    public func validate() throws {
        if serial.trimmingCharacters(in: .whitespaces).isEmpty {
            throw RegistryError.invalid("the serial number is empty")
        }
        if Self.parseDate(contractDate) == nil {
            throw RegistryError.invalid("contract date '\(contractDate)' is not a date like 2026-03-31")
        }
        if let months = warrantyMonths, months < 0 || months > 600 {
            throw RegistryError.invalid("warranty months \(months) is out of range (0...600)")
        }
        if let w = screenWidth, w <= 0 { throw RegistryError.invalid("screen width must be positive") }
        if let h = screenHeight, h <= 0 { throw RegistryError.invalid("screen height must be positive") }
    }

    public var hasWarrantyDocument: Bool {
        !(warrantyCardNumber ?? "").isEmpty || !(orderNumber ?? "").isEmpty
    }

    public var hasContact: Bool {
        !(contactName ?? "").isEmpty && (!(contactPhone ?? "").isEmpty || !(contactEmail ?? "").isEmpty)
    }

    /// The last day covered, from the contract date and period (or the policy default).
    public func warrantyEnd(defaultMonths: Int) -> Date? {
        guard let start = Self.parseDate(contractDate) else { return nil }
        return Self.calendar.date(byAdding: .month, value: warrantyMonths ?? defaultMonths, to: start)
    }

    static let calendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    static func parseDate(_ text: String) -> Date? {
        let f = DateFormatter()
        f.calendar = calendar
        f.timeZone = calendar.timeZone
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd"
        guard let date = f.date(from: text), f.string(from: date) == text else { return nil }
        return date
    }

    static func formatDate(_ date: Date) -> String {
        let f = DateFormatter()
        f.calendar = calendar
        f.timeZone = calendar.timeZone
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: date)
    }
}

public enum RegistryError: Error, Equatable, CustomStringConvertible {
    case unknownProduct(serial: String)
    case invalid(String)
    case duplicate(serial: String)

    public var description: String {
        switch self {
        case let .unknownProduct(serial):
            "product \(serial) is not in the product registry; the warranty covers products bought directly "
                + "from the manufacturer (clause 1): add it with `ledsentry products add --serial \(serial) ...`"
        case let .invalid(reason): "invalid product: \(reason)"
        case let .duplicate(serial): "product \(serial) is already in the registry (use --replace to change it)"
        }
    }
}
