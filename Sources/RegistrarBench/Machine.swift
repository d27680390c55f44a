import Foundation
import Synchronization

/// What the figures were measured on, and whether someone else was using the CPU at the time: on a shared
/// 2-core machine a concurrent compile halves what any benchmark can show.
struct Machine: Codable, Sendable {
    var cores: Int
    var memoryMiB: Int
    var cpuModel: String
    var kernel: String
    var loadAverage1m: Double
    /// Other build processes seen at start (`swift-build`, `swift-frontend`): figures taken under contention.
    var concurrentBuilds: Int
    /// The source measured: `git rev-parse --short HEAD`, and how many files differ from it.
    var revision: String = Self.revision()

    static func current() -> Machine {
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let memKiB = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { Int(words($0).dropFirst().first ?? "") } ?? 0
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown"
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))
            .flatMap { Double($0.split(separator: " ").first ?? "") } ?? 0
        return Machine(cores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), memoryMiB: memKiB / 1024,
                       cpuModel: model, kernel: "Linux \(release)", loadAverage1m: load,
                       concurrentBuilds: Self.otherBuildProcesses())
    }

    static func otherBuildProcesses() -> Int {
        let own = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var count = 0
        for entry in entries {
            guard let pid = Int32(entry), pid != own else { continue }
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !data.isEmpty else { continue }
            let executable = data.split(separator: 0).first.map { String(decoding: $0, as: UTF8.self) } ?? ""
            let base = (executable as NSString).lastPathComponent
            if base == "swift-build" || base == "swift-frontend" || base == "swift-test" { count += 1 }
        }
        return count
    }

    static func revision() -> String {
        func git(_ arguments: [String]) -> String? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git"] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
        }
        guard let head = git(["rev-parse", "--short", "HEAD"])?.trimmingCharacters(in: .whitespacesAndNewlines) else {
            return "unknown"
        }
        let changed = git(["status", "--porcelain", "--untracked-files=no"])?.split(separator: "\n").count ?? 0
        return changed == 0 ? head : "\(head) + \(changed) modified files"
    }

    var summary: String {
        var text = "\(cores) cores (\(cpuModel)), \(memoryMiB) MiB RAM, \(kernel), load \(String(format: "%.2f", loadAverage1m))"
        text += concurrentBuilds > 0 ? ", \(concurrentBuilds) compiler processes running (figures under contention)"
                                     : ", no concurrent builds"
        return text + "; source \(revision)"
    }
}

/// Resident memory of a process, from /proc/<pid>/status.
struct ProcessMemory: Codable, Sendable {
    /// VmRSS: resident now.
    var rssKiB: Int
    /// VmHWM: the peak resident set since the process started.
    var peakKiB: Int

    static func read(pid: Int32) -> ProcessMemory? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Int? {
            text.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int(words($0).dropFirst().first ?? "") }
        }
        guard let rss = field("VmRSS"), let hwm = field("VmHWM") else { return nil }
        return ProcessMemory(rssKiB: rss, peakKiB: hwm)
    }
}

/// A /proc line's fields, separated by any run of spaces or tabs.
private func words(_ line: Substring) -> [Substring] {
    line.split(whereSeparator: { $0 == " " || $0 == "\t" })
}

/// CPU time a process has used (user + system), from /proc/<pid>/stat: what a delivery costs, as opposed to
/// how long it waits.
enum ProcessCPU {
    static func seconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name: state is field 3, utime 14, stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Samples a process's VmRSS every 200 ms until finished: VmHWM gives the peak, this shows it was under load.
final class MemorySampler: Sendable {
    private final class Peak: Sendable {
        let kiB = Mutex(0)
    }

    private let peak: Peak
    private let task: Task<Void, Never>

    init(pid: Int32) {
        let peak = Peak()
        self.peak = peak
        task = Task.detached {
            while !Task.isCancelled {
                if let memory = ProcessMemory.read(pid: pid) { peak.kiB.withLock { $0 = max($0, memory.rssKiB) } }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    func finish() async -> Int {
        task.cancel()
        await task.value
        return peak.kiB.withLock { $0 }
    }
}
