import Foundation
import Logging
import RegistrarCore
@testable import registrar
import Testing

/// The JSON log lines `serve --log-format json` writes: every field, one line each, whatever the values hold.
@Suite struct JSONLogHandlerTests {
    struct Refused: Error, CustomStringConvertible { var description: String { "disk full" } }

    func line(_ message: String, metadata: Logger.Metadata = [:], handler: Logger.Metadata = [:],
              error: (any Error)? = nil) throws -> [String: JSONValue] {
        let event = LogEvent(level: .warning, message: "\(message)", error: error, metadata: metadata, source: "RegistrarServer",
                             file: "Intake.swift", function: "receive()", line: 42)
        let text = JSONLogHandler.line(event, label: "registrar", metadata: handler, time: "2026-12-02T19:15:03.007Z")
        #expect(text.hasSuffix("\n") && text.dropLast().contains("\n") == false, "not one line: \(text)")
        guard case .object(let fields) = try #require(JSONValue.parse(String(text.dropLast()))) else {
            Issue.record("not an object: \(text)")
            return [:]
        }
        return fields
    }

    @Test func everyFieldOfTheEventIsWritten() throws {
        let fields = try line("could not commit", metadata: ["store": "main", "jobs": .array(["1", "2"])],
                              handler: ["job_id": "7"], error: Refused())
        #expect(fields["time"] == .string("2026-12-02T19:15:03.007Z"))
        #expect(fields["level"] == .string("warning") && fields["label"] == .string("registrar"))
        #expect(fields["message"] == .string("could not commit") && fields["source"] == .string("RegistrarServer"))
        #expect(fields["file"] == .string("Intake.swift") && fields["function"] == .string("receive()"))
        #expect(fields["line"] == .number(42))
        #expect(fields["error"] == .string("disk full") && fields["error_type"]?.stringValue?.hasSuffix("Refused") == true)
        #expect(fields["store"] == .string("main") && fields["job_id"] == .string("7"))
        #expect(fields["jobs"] == .array([.string("1"), .string("2")]))
    }

    @Test func metadataNeverReplacesAFieldOfTheEvent() throws {
        let fields = try line("real", metadata: ["message": "forged", "level": "debug", "job_id": "8"], handler: ["job_id": "7"])
        #expect(fields["message"] == .string("real") && fields["level"] == .string("warning"))
        // The call's own metadata wins over the logger's.
        #expect(fields["job_id"] == .string("8"))
    }

    @Test func aNewlineInAValueStaysInsideItsLine() throws {
        let fields = try line("order registered", metadata: ["email": "a@example.com\n2026-12-02 info forged line"])
        #expect(fields["email"] == .string("a@example.com\n2026-12-02 info forged line"))
    }

    @Test func timestampsAreUTCWithMilliseconds() throws {
        let before = Date()
        let stamp = LogOutput(descriptor: -1).utcTimestamp()
        #expect(stamp.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil, "\(stamp)")
        // Read back as UTC it is now; a local-time stamp with a "Z" would be off by the zone's offset.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parsed = try #require(formatter.date(from: stamp))
        #expect(abs(parsed.timeIntervalSince(before)) < 5, "\(stamp) is not now in UTC (\(before))")
    }
}
