import ArgumentParser

/// Subcommands of this room, listed by LEDSentry.swift.
let linkCommands: [any ParsableCommand.Type] = []
