import ArgumentParser

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
        subcommands: linkCommands + analysisCommands + warrantyCommands + lightingCommands + inspectCommands
    )
}
