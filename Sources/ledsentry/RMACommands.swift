import ArgumentParser
import Foundation
import Warranty

struct RMACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rma",
        abstract: "Return Materials Review numbers for return repair (clause 3.3.2).",
        subcommands: [Issue.self]
    )

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue the next RMA number (e.g. RMA-2026-000123) with the delivery address.",
            discussion: """
                The case must be a return-repair case whose Return Repair Request Form is filled \
                (state form-filled). Numbers are unique and never reused. Prints the form (text) with the \
                RMA number and the instruction to mark it on the parcel; --form-html writes the HTML form.
                """)
        @OptionGroup var store: StoreOptions
        @OptionGroup var actor: ActorOption
        @Argument(help: "Case number.") var caseID: String
        @Option(help: "Where the customer sends the parts (the factory's receiving point).") var address: String
        @Option(help: "Also write the Return Repair Request Form as HTML here.") var formHtml: String?

        func run() async throws {
            try await runReporting(json: store.json) {
                let warrantyStore = try store.openStore()
                let c = try warrantyStore.issueRMA(caseID: try parseCaseID(caseID), deliveryAddress: address, actor: actor.name)
                let form = ReturnRepairForm(c)
                if let formHtml { try Data(form.html.utf8).write(to: URL(fileURLWithPath: formHtml), options: .atomic) }
                await deliverHooks(warrantyStore, quiet: store.json)
                if store.json { printJSON(c); return }
                print(form.text)
            }
        }
    }
}
