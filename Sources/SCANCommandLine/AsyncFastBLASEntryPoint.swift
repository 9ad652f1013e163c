import ArgumentParser
import SCANCore

extension AsyncParsableCommand {
    /// `runWithFastBLAS` for tools whose `run` is async (the server).
    public static func runWithFastBLAS() async {
        OpenBLASKernel.ensureFastKernel()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
