import ArgumentParser

/// Subcommands of this room, listed by LEDSentry.swift.
let lightingCommands: [any ParsableCommand.Type] = []
