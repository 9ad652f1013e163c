import Foundation
import XCTest

/// Runs the built command-line tools as child processes. They are found next to the test bundle in
/// the build products directory (`swift build --build-tests`, which `Tools/test.sh` runs, builds them).
/// A tool that is not there fails the test: a test that silently skips proves nothing.
public enum ToolRunner {
    public struct MissingTool: Error, CustomStringConvertible {
        public let tool: String
        public let searched: [String]
        public var description: String {
            "\(tool) is not built next to the test bundle (looked in \(searched.joined(separator: ", "))); run `swift build --build-tests` first"
        }
    }

    public static func path(_ tool: String) throws -> String {
        var dirs: [URL] = []
        for b in Bundle.allBundles { dirs += [b.bundleURL, b.bundleURL.deletingLastPathComponent()] }
        dirs.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        if let exe = Bundle.main.executableURL { dirs.append(exe.deletingLastPathComponent()) }
        for d in dirs {
            let p = d.appendingPathComponent(tool).path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw MissingTool(tool: tool, searched: Set(dirs.map(\.path)).sorted())
    }

    public struct Output {
        public var status: Int32
        public var reason: Process.TerminationReason
        public var stdout: String
        public var stderr: String
    }

    /// Starts `tool` with `arguments` (stdout/stderr to files, so that large outputs never block it).
    /// `dir` is the working directory (and holds the captured output).
    public static func start(_ tool: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
                             in dir: String) throws -> (Process, () -> Output) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try path(tool))
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        var env = ProcessInfo.processInfo.environment
        env["SCAN_QUIET"] = "1"
        // The tools would otherwise switch OpenBLAS to a faster kernel: keep the test process's one,
        // so that their numbers can be compared with in-process results.
        env["SCAN_KEEP_BLAS_KERNEL"] = "1"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let tag = UUID().uuidString.prefix(8)
        let out = dir + "/\(tool)-\(tag).out", err = dir + "/\(tool)-\(tag).err"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle(forWritingAtPath: err)
        let pipe = Pipe()
        if stdin != nil { p.standardInput = pipe } else { p.standardInput = FileHandle.nullDevice }
        try p.run()
        if let stdin {
            pipe.fileHandleForWriting.write(Data(stdin.utf8))
            pipe.fileHandleForWriting.closeFile()
        }
        return (p, {
            let (status, reason) = wait(p)
            let o = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            let e = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            return Output(status: status, reason: reason, stdout: o, stderr: e)
        })
    }

    /// Waits for `p` to end. Foundation's `waitUntilExit` can miss the exit of a child killed right
    /// after it started (the test process then hung with the child a zombie), so the child is also
    /// reaped here directly once Foundation has not seen it end.
    static func wait(_ p: Process) -> (Int32, Process.TerminationReason) {
        while p.isRunning {
            var raw: Int32 = 0
            if waitpid(p.processIdentifier, &raw, WNOHANG) == p.processIdentifier {
                // WIFSIGNALED / WTERMSIG / WEXITSTATUS, which Swift does not import as functions.
                let signal = raw & 0x7f
                return signal != 0 ? (signal, .uncaughtSignal) : ((raw >> 8) & 0xff, .exit)
            }
            usleep(5_000)
        }
        return (p.terminationStatus, p.terminationReason)
    }

    /// Runs a program that is not one of the built tools (a shell or Python script) to completion,
    /// with `environment` added to this process's, and returns its status with stdout and stderr
    /// interleaved as it wrote them.
    public static func runProgram(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    /// Runs `tool` to completion. `dir` defaults to a fresh temporary directory.
    public static func run(_ tool: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
                           in dir: String? = nil) throws -> Output {
        let workDir: String
        if let dir {
            workDir = dir
        } else {
            workDir = NSTemporaryDirectory() + "scan-tool-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        }
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: workDir) } }
        return try start(tool, arguments, stdin: stdin, environment: environment, in: workDir).1()
    }
}
