import Diagnostics
import Foundation

/// The papers the policy asks for, generated from a case: the Return Repair Request Form
/// (3.3.2 a), the on-site fault description document (3.2.3 b, 3.3.3), the remote-guidance
/// sheet (3.2.1), and the plain fault list. Text and HTML carry the same content.
public enum CaseDocuments {
    public struct Document: Sendable {
        public var name: String
        public var text: String
    }

    /// The documents that fit the case's service type, as they go into its bundle.
    /// `evidenceURL` gives the link to an evidence file from the document.
    public static func documents(for c: WarrantyCase, evidenceURL: @escaping (CaseEvidence) -> String) -> [Document] {
        switch c.service.type {
        case .remoteGuidance:
            return [Document(name: "remote-guidance.txt", text: remoteGuidance(c))]
        case .returnRepair:
            let form = ReturnRepairForm(c)
            return [Document(name: "return-repair-request.txt", text: form.text),
                    Document(name: "return-repair-request.html", text: form.html)]
        case .onSite:
            let doc = OnSiteFaultDescription(c, evidenceURL: evidenceURL)
            return [Document(name: "on-site-fault-description.txt", text: doc.text),
                    Document(name: "on-site-fault-description.html", text: doc.html)]
        }
    }

    public static func faultList(_ c: WarrantyCase) -> String {
        var out = "Fault list of \(c.reference) (product \(c.product.serial))\n"
        for (i, r) in c.findings.enumerated() {
            let f = r.finding
            out += "\(i + 1). [\(f.source.rawValue)] \(f.kind.rawValue) at \(f.location.description)"
            if !f.measurements.isEmpty { out += " — " + f.measurements.map(describe).joined(separator: ", ") }
            if let detail = f.detail { out += " — " + detail }
            out += " (run \(r.runID.prefix(8)), \(isoDate(r.recordedAt)))\n"
        }
        return out
    }

    static func remoteGuidance(_ c: WarrantyCase) -> String {
        var out = "Remote guidance for \(c.reference) — \(c.summary)\n\n"
        out += "Why remote guidance (clause \(c.service.clause)): \(c.service.explanation)\n\nPlease try these steps:\n"
        for (i, step) in c.service.steps.enumerated() { out += "  \(i + 1). \(step)\n" }
        out += "\nIf the problem remains, tell your after-sales engineer: the case will move to return repair or on-site service.\n"
        return out
    }

    static func describe(_ m: MeasuredValue) -> String {
        var text = "\(m.name) \(format(m.value))"
        if let unit = m.unit { text += " \(unit)" }
        if let limit = m.limit { text += " (limit \(format(limit)))" }
        return text
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        return String(format: abs(value) < 0.01 ? "%.6f" : "%.2f", value)
    }

    static func isoDate(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Rows shared by the forms: product identity and contact, from the registry.
    static func productRows(_ c: WarrantyCase) -> [(String, String)] {
        let p = c.product
        let missing = "— please supply —"
        return [
            ("Customer", p.customer),
            ("Contact person", p.contactName ?? missing),
            ("Phone", p.contactPhone ?? (p.contactEmail == nil ? missing : "—")),
            ("E-mail", p.contactEmail ?? (p.contactPhone == nil ? missing : "—")),
            ("Product model", p.model),
            ("Serial number", p.serial),
            ("Warranty card number", p.warrantyCardNumber ?? (p.orderNumber == nil ? missing : "—")),
            ("Order number", p.orderNumber ?? (p.warrantyCardNumber == nil ? missing : "—")),
            ("Contract date", p.contractDate),
            ("Warranty", c.scope.explanation),
        ]
    }

    static func textTable(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n") + "\n"
    }

    static func htmlTable(_ rows: [(String, String)]) -> String {
        "<table>\n" + rows.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined(separator: "\n") + "\n</table>\n"
    }

    static func htmlPage(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>body{font-family:sans-serif;max-width:52em;margin:2em auto}th{text-align:left;padding-right:1em;vertical-align:top}
        .box{border:2px solid #000;padding:.5em 1em;margin:1em 0}img{max-width:100%}</style></head>
        <body>
        \(body)
        </body></html>

        """
    }
}

/// The "Return Repair Request Form" of 3.3.2 a, filled in from the case.
public struct ReturnRepairForm {
    public let c: WarrantyCase
    public init(_ c: WarrantyCase) { self.c = c }

    var rma: String { c.rmaNumber ?? "to be issued by the manufacturer when this form is complete" }
    var address: String { c.deliveryAddress ?? "given with the RMA number" }

    var faultRows: [(String, String)] {
        [("Case", c.reference), ("Part(s) to return", c.location.description), ("Fault", "\(c.kind.rawValue): \(c.summary)"),
         ("Fault class", "\(c.faultClass.class.rawValue) (clause \(c.faultClass.clause)): \(c.faultClass.reason)"),
         ("Measured", c.measurements.map(CaseDocuments.describe).joined(separator: "; ").nonEmpty ?? "see fault list"),
         ("RMA number", rma), ("Deliver to", address)]
    }

    static let costs = [
        "You pay the freight, insurance, customs taxes, customs clearance fees and other costs of sending the parts to the factory (3.2.2 b).",
        "The manufacturer repairs the parts and pays only the shipping back to you (3.2.2 b).",
        "Parcels sent freight collect are not accepted; customs duties and clearance costs on the way back are yours; the manufacturer is not responsible for damage or loss caused by packaging or transport (3.2.2 c).",
    ]

    var markInstruction: String {
        if let number = c.rmaNumber {
            return "Clearly mark the RMA number \(number) on every returned product or part and on the outside of the parcel, and ship it to the delivery address above (3.3.2 b)."
        }
        return "Once you receive the RMA number, mark it clearly on every returned product or part and on the outside of the parcel (3.3.2 b)."
    }

    public var text: String {
        var out = "RETURN REPAIR REQUEST FORM\nReturn Materials Review (RMA) — \(c.product.customer) / \(c.reference)\n\n"
        out += CaseDocuments.textTable(CaseDocuments.productRows(c)) + "\n"
        out += CaseDocuments.textTable(faultRows) + "\n"
        if !c.missing.isEmpty { out += "STILL TO SUPPLY:\n" + c.missing.map { "  - \($0)" }.joined(separator: "\n") + "\n\n" }
        out += "COSTS:\n" + Self.costs.map { "  - \($0)" }.joined(separator: "\n") + "\n\n"
        out += "MARK THE PARCEL: \(markInstruction)\n\n"
        out += "Customer signature: ____________________    Date: __________\n"
        return out
    }

    public var html: String {
        var body = "<h1>Return Repair Request Form</h1>\n<p>Return Materials Review (RMA) for \(CaseDocuments.escape(c.reference))</p>\n"
        body += "<h2>Customer and product</h2>\n" + CaseDocuments.htmlTable(CaseDocuments.productRows(c))
        body += "<h2>Fault and return</h2>\n" + CaseDocuments.htmlTable(faultRows)
        if !c.missing.isEmpty {
            body += "<h2>Still to supply</h2>\n<ul>" + c.missing.map { "<li>\(CaseDocuments.escape($0))</li>" }.joined() + "</ul>\n"
        }
        body += "<h2>Costs</h2>\n<ul>" + Self.costs.map { "<li>\(CaseDocuments.escape($0))</li>" }.joined() + "</ul>\n"
        body += "<div class=\"box\"><strong>Mark the parcel:</strong> \(CaseDocuments.escape(markInstruction))</div>\n"
        body += "<p>Customer signature: ____________________ Date: __________</p>"
        return CaseDocuments.htmlPage(title: "Return Repair Request Form \(c.reference)", body: body)
    }
}

/// The fault description document of 3.2.3 b / 3.3.3 for on-site cases: photos, videos, the
/// fault presentation, the fault list and the on-site contact.
public struct OnSiteFaultDescription {
    public let c: WarrantyCase
    let evidenceURL: (CaseEvidence) -> String

    public init(_ c: WarrantyCase, evidenceURL: @escaping (CaseEvidence) -> String) {
        self.c = c
        self.evidenceURL = evidenceURL
    }

    var photos: [CaseEvidence] { c.evidence.filter { $0.role == .annotatedImage || $0.role == .capture } }
    var videos: [CaseEvidence] { c.evidence.filter { $0.role == .video } }

    var presentation: String {
        "\(c.summary). Fault class: \(c.faultClass.class.rawValue) (clause \(c.faultClass.clause)): \(c.faultClass.reason) "
            + "Service: on-site maintenance (clause \(c.service.clause)): \(c.service.explanation)"
    }

    static let terms = [
        "If the on-site analysis and the manufacturer's headquarters find the problem outside this warranty policy, the customer pays the repair in full from the engineer's quote and the engineer's travel expenses by the manufacturer's travel standards (3.2.3 c).",
        "Defective parts replaced on site are kept and disposed of by the manufacturer (3.2.3 d).",
    ]

    public var text: String {
        var out = "ON-SITE FAULT DESCRIPTION — \(c.reference)\n\n"
        out += "On-site contact and product\n" + CaseDocuments.textTable(CaseDocuments.productRows(c)) + "\n"
        out += "Fault presentation\n  \(presentation)\n\n"
        out += CaseDocuments.faultList(c) + "\n"
        out += "Photos (\(photos.count))\n" + (photos.isEmpty
            ? "  none yet: add annotated captures with `ledsentry cases ingest --evidence` (required by 3.2.3 b)\n"
            : photos.map { "  - \(evidenceURL($0)) (\($0.role.rawValue))" }.joined(separator: "\n") + "\n")
        out += "Videos (\(videos.count))\n" + (videos.isEmpty ? "  none supplied\n" : videos.map { "  - \(evidenceURL($0))" }.joined(separator: "\n") + "\n")
        if !c.missing.isEmpty { out += "\nStill to supply:\n" + c.missing.map { "  - \($0)" }.joined(separator: "\n") + "\n" }
        out += "\nTerms\n" + Self.terms.map { "  - \($0)" }.joined(separator: "\n") + "\n"
        return out
    }

    public var html: String {
        var body = "<h1>On-site fault description</h1>\n<p>\(CaseDocuments.escape(c.reference)) — clauses 3.2.3 b and 3.3.3</p>\n"
        body += "<h2>On-site contact and product</h2>\n" + CaseDocuments.htmlTable(CaseDocuments.productRows(c))
        body += "<h2>Fault presentation</h2>\n<p>\(CaseDocuments.escape(presentation))</p>\n"
        body += "<h2>Fault list</h2>\n<ol>" + c.findings.map { r in
            "<li>[\(r.finding.source.rawValue)] \(CaseDocuments.escape(r.finding.kind.rawValue)) at \(CaseDocuments.escape(r.finding.location.description))"
                + (r.finding.measurements.isEmpty ? "" : " — " + CaseDocuments.escape(r.finding.measurements.map(CaseDocuments.describe).joined(separator: ", ")))
                + "</li>"
        }.joined(separator: "\n") + "</ol>\n"
        body += "<h2>Photos</h2>\n" + (photos.isEmpty ? "<p>none supplied</p>\n" : photos.map {
            "<figure><img src=\"\(CaseDocuments.escape(evidenceURL($0)))\" alt=\"\(CaseDocuments.escape($0.name))\"><figcaption>\(CaseDocuments.escape($0.name))</figcaption></figure>"
        }.joined(separator: "\n"))
        body += "<h2>Videos</h2>\n" + (videos.isEmpty ? "<p>none supplied</p>\n" : "<ul>" + videos.map {
            "<li><a href=\"\(CaseDocuments.escape(evidenceURL($0)))\">\(CaseDocuments.escape($0.name))</a></li>"
        }.joined() + "</ul>\n")
        if !c.missing.isEmpty {
            body += "<h2>Still to supply</h2>\n<ul>" + c.missing.map { "<li>\(CaseDocuments.escape($0))</li>" }.joined() + "</ul>\n"
        }
        body += "<h2>Terms</h2>\n<ul>" + Self.terms.map { "<li>\(CaseDocuments.escape($0))</li>" }.joined() + "</ul>"
        return CaseDocuments.htmlPage(title: "On-site fault description \(c.reference)", body: body)
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
