import ArgumentParser
import Foundation

/// The `ledsentry` command: one subcommand per job. Each room contributes its own
/// subcommands from its own file, so the rooms do not edit one shared list.
@main
struct LEDSentry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledsentry",
        abstract: "Diagnose LED display walls and LED lighting; turn faults into warranty cases.",
        discussion: """
            Exit codes: 0 success; 1 a failure was found or a command failed (see its message);
            2 bad command line; 3 device or link error; 4 bad input file; 5 store error.
            """,
        version: "0.1.0",
        subcommands: linkCommands + analysisCommands + warrantyCommands + lightingCommands
    )

    /// Runs the chosen subcommand. Differs from ArgumentParser's default only in the exit
    /// code of a bad command line: 2, as documented above (and as most Unix tools do),
    /// instead of ArgumentParser's 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
