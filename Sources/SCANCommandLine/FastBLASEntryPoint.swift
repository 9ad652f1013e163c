import ArgumentParser
import SCANCore

extension ParsableCommand {
    /// The entry point every tool shares: OpenBLAS picks its kernel when the library loads, so the
    /// fast-kernel check (which may re-execute the process) must come before anything else; then
    /// the usual parse, run, and exit with the error's message and status.
    public static func runWithFastBLAS() {
        OpenBLASKernel.ensureFastKernel()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
