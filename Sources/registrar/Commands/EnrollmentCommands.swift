import ArgumentParser
import Foundation
import RegistrarCore
import RegistrarServer
import RegistrarStore

/// Options shared by the commands that enqueue one job by hand.
struct EnqueueOptions: ParsableArguments {
    @Flag(help: "Wait until the job finishes (a running `registrar serve` does the work) and exit 0 only if it succeeded.")
    var wait = false
    @Option(help: "With --wait: give up after this many seconds.")
    var timeout: Int = 300
    @Flag(help: "Print a JSON document.")
    var json = false
}

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enroll", abstract: "Enqueue an enroll job by hand.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The learner's email.") var email: String
    @Option(help: "The course run key (course-v1:ORG+NUMBER+RUN).") var course: String
    @Option(help: "The enrollment mode (audit, verified, ...); the LMS default when omitted.") var mode: String?
    @OptionGroup var enqueue: EnqueueOptions

    func validate() throws { try validateEmailAndCourse(email, course) }

    func run() async throws {
        let payload = EnrollPayload(email: normalizedEmail(email), courseID: course, mode: mode)
        let job = try NewJob(kind: .enroll, dedupeKey: "cli:enroll:\(UUID().uuidString.lowercased())",
                             serialKey: SerialKey.enrollment(email: email, courseID: course), payload: payload,
                             source: operatorName())
        try await enqueueByHand(job, global: global, options: enqueue)
    }
}

struct UnenrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unenroll",
                                                    abstract: "Enqueue a (soft) unenroll job by hand.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The learner's email.") var email: String
    @Option(help: "The course run key.") var course: String
    @OptionGroup var enqueue: EnqueueOptions

    func validate() throws { try validateEmailAndCourse(email, course) }

    func run() async throws {
        let payload = UnenrollPayload(email: normalizedEmail(email), courseID: course)
        let job = try NewJob(kind: .unenroll, dedupeKey: "cli:unenroll:\(UUID().uuidString.lowercased())",
                             serialKey: SerialKey.enrollment(email: email, courseID: course), payload: payload,
                             source: operatorName())
        try await enqueueByHand(job, global: global, options: enqueue)
    }
}

struct CoursesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "courses", abstract: "Course runs in Studio.",
                                                    subcommands: [Rerun.self])

    struct Rerun: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enqueue a Studio rerun of SOURCE as run RUN (same organisation and number).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The source course run key.") var source: String
        @Option(help: "The new run's name, e.g. 2026T1.") var run: String
        @Option(help: "Start (ISO 8601, e.g. 2026-01-01T00:00:00Z); give --end too.") var start: String?
        @Option(help: "End (ISO 8601); give --start too.") var end: String?
        @Option(help: "self_paced or instructor_paced.") var pacing: String?
        @Option(help: "The new run's title (default: the source's).") var title: String?
        @OptionGroup var enqueue: EnqueueOptions

        func validate() throws {
            guard CourseKey(source) != nil else {
                throw ValidationError("SOURCE \"\(source)\" is not a course run key like course-v1:ORG+NUMBER+RUN")
            }
            guard !run.isEmpty, run.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
                throw ValidationError("--run \"\(run)\" must be letters, digits, _ - or .")
            }
            if (start == nil) != (end == nil) { throw ValidationError("give --start and --end together (Studio needs both)") }
            for (name, value) in [("--start", start), ("--end", end)] {
                if let value, (try? Date(value, strategy: .iso8601)) == nil {
                    throw ValidationError("\(name) \"\(value)\" is not an ISO 8601 time like 2026-01-01T00:00:00Z")
                }
            }
            if let pacing, !["self_paced", "instructor_paced"].contains(pacing) {
                throw ValidationError("--pacing must be self_paced or instructor_paced")
            }
        }

        func run() async throws {
            let payload = RerunPayload(sourceCourseID: source, run: run, title: title, pacing: pacing, start: start, end: end)
            // The same rerun asked for twice is one rerun.
            let job = try NewJob(kind: .rerun, dedupeKey: "rerun:\(source)|\(run)", serialKey: "rerun:\(source)|\(run)",
                                 payload: payload, source: operatorName())
            try await enqueueByHand(job, global: global, options: enqueue)
        }
    }
}

private func validateEmailAndCourse(_ email: String, _ course: String) throws {
    let trimmed = email.trimmingCharacters(in: .whitespaces)
    guard trimmed.contains("@"), !trimmed.hasPrefix("@"), !trimmed.hasSuffix("@") else {
        throw ValidationError("--email \"\(email)\" is not an email address")
    }
    guard CourseKey(course) != nil else {
        throw ValidationError("--course \"\(course)\" is not a course run key like course-v1:ORG+NUMBER+RUN")
    }
}

/// Enqueues, prints the job id, and with `--wait` follows the job to its end.
private func enqueueByHand(_ job: NewJob, global: GlobalOptions, options: EnqueueOptions) async throws {
    let store = try await global.openStore(try global.loadConfig())
    let result = try await store.enqueue([job], delivery: NewDelivery(
        source: "cli", headers: ["actor": operatorName()], body: Array(job.payload.utf8), verdict: "accepted", httpStatus: 0,
        reason: "\(job.kind) enqueued by hand"))
    guard let enqueued = result.jobs.first else { throw CLIError("nothing was enqueued") }
    if !options.wait {
        if options.json { try JSONOutput.print(["job_id": enqueued.id]) } else {
            print(enqueued.created ? "job \(enqueued.id) queued (\(job.kind))" : "job \(enqueued.id) already exists (\(enqueued.state))")
        }
        return
    }
    if !options.json { FileHandle.standardError.write(Data("job \(enqueued.id) queued; waiting for `registrar serve` to run it…\n".utf8)) }
    let deadline = ContinuousClock.now + .seconds(options.timeout)
    while ContinuousClock.now < deadline {
        if let current = try await store.job(id: enqueued.id), current.state.isTerminal {
            if options.json {
                let detail = try await store.jobDetail(id: current.id)
                try JSONOutput.print(JobJSON(current, attempts: detail?.attempts, actions: detail?.actions))
            } else {
                let note = current.state == .succeeded ? (current.result ?? "") : (current.lastError ?? "")
                print("job \(current.id) \(current.state): \(note)")
            }
            if current.state != .succeeded { throw ExitCode.failure }
            return
        }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw CLIError("job \(enqueued.id) has not finished after \(options.timeout) s; is `registrar serve` running? (`registrar jobs show \(enqueued.id)`)")
}
