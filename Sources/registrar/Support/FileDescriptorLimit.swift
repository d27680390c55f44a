#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Every connection `serve` holds is a descriptor. Shells and systemd start processes with a soft open-file
/// limit of 1024 (the hard limit is usually far higher; the unit sets `LimitNOFILE`), which a thousand idle
/// connections exhaust: `accept` then fails with EMFILE and nothing new, signed deliveries and `/readyz` included,
/// gets in. So `serve` raises its soft limit to the hard limit as it starts; the HTTP server then caps
/// `server.max_connections` by what the limit can hold (`RegistrarHTTPServer.effectiveMaxConnections()`).
enum FileDescriptorLimit {
    /// Raises the soft RLIMIT_NOFILE to the hard limit and returns the soft limit in force afterwards (nil when
    /// it cannot be read). A failure leaves the limit as it was and is logged, never fatal.
    @discardableResult
    static func raiseToHardLimit(logger: Logger) -> Int? {
        var limit = rlimit()
        guard get(&limit) == 0 else {
            logger.warning("could not read the open-file limit", metadata: ["errno": "\(errno)"])
            return nil
        }
        var wanted = limit.rlim_max
        #if canImport(Darwin)
        // macOS reports an unlimited hard limit but refuses a soft limit above OPEN_MAX.
        wanted = min(wanted, rlim_t(OPEN_MAX))
        #endif
        guard limit.rlim_cur < wanted else { return Self.int(limit.rlim_cur) }
        let before = limit.rlim_cur
        limit.rlim_cur = wanted
        guard set(&limit) == 0 else {
            logger.warning("could not raise the open-file limit", metadata: [
                "soft": "\(before)", "hard": "\(limit.rlim_max)", "errno": "\(errno)"])
            return Self.int(before)
        }
        logger.debug("raised the open-file limit", metadata: ["from": "\(before)", "to": "\(wanted)"])
        return Self.int(wanted)
    }

    private static func int(_ value: rlim_t) -> Int? {
        value >= rlim_t(Int.max) ? nil : Int(value)
    }

    private static func get(_ limit: inout rlimit) -> Int32 {
        #if os(Linux)
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        #else
        getrlimit(RLIMIT_NOFILE, &limit)
        #endif
    }

    private static func set(_ limit: inout rlimit) -> Int32 {
        #if os(Linux)
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        #else
        setrlimit(RLIMIT_NOFILE, &limit)
        #endif
    }
}
