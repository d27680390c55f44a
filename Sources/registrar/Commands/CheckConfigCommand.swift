import ArgumentParser
import Foundation

struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration and print the effective values, secrets redacted."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let config = try global.loadConfig()
        print(config.redactedYAML, terminator: "")
        for warning in config.warnings {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
    }
}
