import CSCANKernels
import Foundation

/// OpenBLAS 0.3.21 (Debian 12) does not recognise recent CPUs and falls back to its generic
/// `Prescott` kernel, about 5x slower (DESIGN §5). The kernel is chosen by the library's load-time
/// constructor, so setting the environment inside the process is too late: the tools re-execute
/// themselves once with `OPENBLAS_CORETYPE` set, unless the user already chose one.
public enum OpenBLASKernel {
    /// The kernel a CPU with these features should use, or nil to leave OpenBLAS alone.
    static func preferredCore() -> String? {
        if scan_cpu_has_avx512f() != 0 { return "SkylakeX" }
        if scan_cpu_has_avx2() != 0 { return "Haswell" }
        return nil
    }

    /// Call first thing in `main`. Returns normally when nothing needs to change; otherwise replaces
    /// the process image (same arguments, same environment plus `OPENBLAS_CORETYPE`).
    public static func ensureFastKernel() {
        let env = ProcessInfo.processInfo.environment
        if env["OPENBLAS_CORETYPE"] != nil || env["SCAN_KEEP_BLAS_KERNEL"] != nil { return }
        guard BLAS.coreName.lowercased() == "prescott", let core = preferredCore() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        // Guard against a loop if the library ignores the variable.
        setenv("SCAN_KEEP_BLAS_KERNEL", "1", 1)
        let args = CommandLine.arguments
        var cargs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cargs.append(nil)
        execv("/proc/self/exe", &cargs)
        // execv only returns on failure: carry on with the slow kernel.
        for p in cargs { free(p) }
    }
}
