import CFuzzerDriver
import Foundation

writeSeedsIfAsked()

// libFuzzer reads its own flags (-max_total_time, -dict, corpus directories, ...) from the command line.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    data.map { fuzz(UnsafeRawPointer($0), size) } ?? 0
})
