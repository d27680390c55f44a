// TEMPORARY probe, removed before hand-off.
import ArgumentParser
import Foundation
import RegistrarCore

struct ParseProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "parse-probe")
    func run() async throws {
        let webhooks = try WooOrderWebhooks(fixturesDirectory: try locateFixtures(nil))
        let body = webhooks.body(orderID: 123456)
        let n = 3000
        func time(_ name: String, _ work: () throws -> Void) rethrows {
            for _ in 0..<100 { try work() }
            let start = ContinuousClock.now
            for _ in 0..<n { try work() }
            print(name, String(format: "%.1f µs", (ContinuousClock.now - start).inMilliseconds * 1000 / Double(n)))
        }
        try time("WooPayload.parse (JSONDecoder → JSONValue)") { _ = try WooPayload.parse(topic: "order.updated", body: body) }
        try time("JSONDecoder → JSONValue only") { _ = try JSONDecoder().decode(JSONValue.self, from: Data(body)) }
        try time("JSONSerialization → JSONValue") { _ = convert(try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) }
        time("byte-level parser → JSONValue") { var p = ProbeParser(body); _ = p.value() }
        var p = ProbeParser(body)
        print("same result:", p.value() == (try JSONDecoder().decode(JSONValue.self, from: Data(body))))
        let sig = webhooks.signature(body)
        time("HMAC verify") { _ = WooWebhookSignature.isValid(body: body, signature: sig, secret: Secret(WooOrderWebhooks.secret)) }
        try time("JSONText.encode(EnrollPayload)") { _ = try JSONText.encode(EnrollPayload(email: "a@b.c", courseID: "course-v1:a+b+c", mode: "verified", orderReference: "1")) }
    }
    func convert(_ any: Any) -> JSONValue {
        switch any {
        case let v as String: return .string(v)
        case let v as NSNumber:

            return .number(v.doubleValue)
        case let v as [Any]: return .array(v.map(convert))
        case let v as [String: Any]: return .object(v.mapValues(convert))
        default: return .null
        }
    }
}

struct ProbeParser {
    let b: [UInt8]
    var i = 0
    init(_ b: [UInt8]) { self.b = b }
    mutating func ws() { while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }
    mutating func value() -> JSONValue {
        ws()
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1; var o: [String: JSONValue] = [:]; ws()
            if b[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            while true { ws(); let k = string(); ws(); i += 1; o[k] = value(); ws(); if b[i] == UInt8(ascii: ",") { i += 1 } else { i += 1; return .object(o) } }
        case UInt8(ascii: "["):
            i += 1; var a: [JSONValue] = []; ws()
            if b[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true { a.append(value()); ws(); if b[i] == UInt8(ascii: ",") { i += 1 } else { i += 1; return .array(a) } }
        case UInt8(ascii: "\""): return .string(string())
        case UInt8(ascii: "t"): i += 4; return .bool(true)
        case UInt8(ascii: "f"): i += 5; return .bool(false)
        case UInt8(ascii: "n"): i += 4; return .null
        default:
            let s = i
            while i < b.count, (b[i] >= 0x30 && b[i] <= 0x39) || b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") || b[i] == UInt8(ascii: "+") { i += 1 }
            return .number(Double(String(decoding: b[s..<i], as: UTF8.self)) ?? 0)
        }
    }
    mutating func string() -> String {
        i += 1
        let s = i
        var escaped = false
        while b[i] != UInt8(ascii: "\"") { if b[i] == UInt8(ascii: "\\") { escaped = true; i += 2 } else { i += 1 } }
        let raw = b[s..<i]; i += 1
        if !escaped { return String(decoding: raw, as: UTF8.self) }
        var out = String(); out.reserveCapacity(raw.count)
        var j = raw.startIndex
        while j < raw.endIndex {
            if raw[j] == UInt8(ascii: "\\") {
                let c = raw[j+1]
                if c == UInt8(ascii: "u") { let hex = String(decoding: raw[(j+2)..<(j+6)], as: UTF8.self); out.unicodeScalars.append(Unicode.Scalar(UInt32(hex, radix: 16)!) ?? "?"); j += 6 }
                else { out.append(c == UInt8(ascii: "n") ? "\n" : Character(Unicode.Scalar(c))); j += 2 }
            } else { let k = j; while j < raw.endIndex, raw[j] != UInt8(ascii: "\\") { j += 1 }; out += String(decoding: raw[k..<j], as: UTF8.self) }
        }
        return out
    }
}

import GRDB
import RegistrarStore

struct SQLProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sql-probe")
    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.path + "/sqlprobe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try RegistrarStore(path: dir + "/r.sqlite", options: .init(jobs: JobsConfig()))
        let body = Data(try WooOrderWebhooks(fixturesDirectory: try locateFixtures(nil)).body(orderID: 1))
        var next = 0
        for cached in [false, true, false, true] {
            let batches = 100, perBatch = 30
            let start = ContinuousClock.now
            for _ in 0..<batches {
                let base = next
                next += perBatch
                try await store.write { db in
                    func stmt(_ sql: String) throws -> Statement { cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql) }
                    let now = Date()
                    for k in 0..<perBatch {
                        let order = base + k
                        for line in [311, 312] {
                            for suffix in ["enroll", "unenroll"] {
                                _ = try Bool.fetchOne(try stmt("SELECT 1 FROM jobs WHERE dedupe_key = ?"), arguments: ["woo:main:\(order):\(line):\(suffix)"])
                            }
                        }
                        _ = try String.fetchOne(try stmt("SELECT newest_modified_gmt FROM woo_orders WHERE store = ? AND order_id = ?"), arguments: ["main", order])
                        try stmt("""
                            INSERT INTO deliveries (source, channel, received_at, headers, body, verdict, http_status, reason, job_ids)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """).execute(arguments: ["woocommerce", "main", now, #"{"x-wc-webhook-topic":"order.updated"}"#, body, "accepted", 200, nil, "[]"])
                        let delivery = db.lastInsertedRowID
                        var ids: [Int64] = []
                        for line in [311, 312] {
                            let id = try Int64.fetchOne(try stmt("""
                                INSERT INTO jobs (kind, state, dedupe_key, serial_key, payload, max_attempts, run_at, source,
                                                  delivery_id, created_at, updated_at)
                                VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                                ON CONFLICT(dedupe_key) DO NOTHING
                                RETURNING id
                                """), arguments: ["enroll", "woo:main:\(order):\(line):enroll", "l\(order)@x|c\(line)", "{\"email\":\"l\(order)@x\"}", 25, now, "woocommerce", delivery, now, now])
                            ids.append(id ?? 0)
                        }
                        try stmt("UPDATE deliveries SET job_ids = ? WHERE id = ?").execute(arguments: ["\(ids)", delivery])
                        try stmt("""
                            INSERT INTO woo_orders (store, order_id, newest_modified_gmt, status, updated_at) VALUES (?, ?, ?, ?, ?)
                            ON CONFLICT(store, order_id) DO UPDATE SET
                                newest_modified_gmt = COALESCE(excluded.newest_modified_gmt, newest_modified_gmt),
                                status = excluded.status, updated_at = excluded.updated_at
                            """).execute(arguments: ["main", order, "2026-11-20T10:00:00", "processing", now])
                    }
                }
            }
            let per = (ContinuousClock.now - start).inMilliseconds * 1000 / Double(batches * perBatch)
            print(cached ? "cached statements  " : "fresh statements   ", String(format: "%.0f µs per delivery (writer, batches of %d)", per, perBatch))
        }
        try store.close()
    }
}

struct VisibilityProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "visibility-probe")
    @Option var n = 5000
    @Option var rounds = 10
    @Flag var learners = false
    func run() async throws {
        var stale = 0
        for round in 0..<rounds {
            let dir = FileManager.default.temporaryDirectory.path + "/visprobe-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let store = try RegistrarStore(path: dir + "/r.sqlite", options: .init(jobs: JobsConfig()))
            if learners {
                let n = self.n
                try await store.write { db in
                    for i in 0..<n { try db.execute(sql: "INSERT INTO learner_accounts (email, username, looked_up_at) VALUES (?, ?, ?)", arguments: ["u\(i)@x", "u\(i)", Date()]) }
                }
            }
            let jobs = try (0..<n).map { i in try NewJob(kind: .enroll, dedupeKey: "k\(i)", serialKey: "s\(i)", payload: EnrollPayload(email: "u\(i)@x", courseID: "c"), source: "probe") }
            _ = try await store.enqueue(jobs)
            let seen = try await store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs") ?? -1 }
            let seen2 = try await store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs") ?? -1 }
            if seen != n { stale += 1 }
            print("round \(round): read sees \(seen) then \(seen2) of \(n)")
            try store.close()
        }
        print("stale first reads: \(stale)/\(rounds)")
    }
}
