import ArgumentParser

/// Subcommands of this room, listed by LEDSentry.swift.
let warrantyCommands: [any ParsableCommand.Type] = []
