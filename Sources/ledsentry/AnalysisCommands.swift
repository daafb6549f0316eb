import ArgumentParser

/// Subcommands of this room, listed by LEDSentry.swift.
let analysisCommands: [any ParsableCommand.Type] = [AnalyzeCommand.self]
