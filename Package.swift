// swift-tools-version:5.9
import PackageDescription

// Dependency graph, one line per target: each line equals the target's declared dependencies and the
// modules its sources import (PackageGraphTests checks both).
//   CBLAS, CLMDB, CZstd, CSCANKernels   system libraries / C kernels, no Swift deps
//   SCANCore        -> CBLAS, CSCANKernels                                   tensors, BLAS, npy, safetensors, threading
//   SCANModel       -> SCANCore, CSCANKernels                                config, vocabulary, tokenizer, encoders, cross attention, scoring, original checkpoints
//   SCANData        -> SCANCore                                              precomp splits, captions, feature sources, TSV converter
//   SCANIndex       -> SCANCore, CLMDB, CZstd, CSCANKernels                  LMDB environment, record codec (float16/int8, product quantisation), writer, reader
//   SCANSearch      -> SCANIndex, SCANModel, SCANData, SCANCore, CSCANKernels   index builder, prefilter + re-rank searcher
//   SCANTraining    -> SCANModel, SCANData, SCANCore, CSCANKernels           backward passes, loss, Adam, trainer, evaluation, prefilter fitting
//   SCANServe       -> SCANSearch, SCANIndex, SCANCore, Hummingbird, Prometheus   the search service: routes, JSON types, metrics, page
//   SCANCommandLine -> SCANCore, ArgumentParser                              the tools' shared entry point and options
//   SCANSynthetic   -> SCANTraining, SCANData, SCANCore                      (not a product) demo world, generated collections, random models
//   SCANBenchmarks  -> SCANSearch, SCANTraining, SCANSynthetic, SCANIndex, SCANModel, SCANData, SCANCore, CSCANKernels   (not a product)
//   scan-data       -> SCANData, SCANCommandLine, ArgumentParser
//   scan-index, scan-search -> SCANSearch, SCANCommandLine, ArgumentParser
//   scan-serve      -> SCANServe, SCANSearch, SCANCommandLine, Hummingbird, ArgumentParser
//   scan-train, scan-eval, scan-prefilter -> SCANTraining, SCANCommandLine, ArgumentParser
//   scan-vocab      -> SCANTraining, ArgumentParser
//   scan-model      -> SCANModel, SCANCommandLine, ArgumentParser      original checkpoint conversion
//   scan-bench      -> SCANBenchmarks, SCANSearch, SCANCommandLine, ArgumentParser      (Tools/)
//   scan-demo-world -> SCANSynthetic, SCANTraining, ArgumentParser                      (Tools/)
//   TestSupport     -> SCANModel                                             (tests only) fixtures, tool runner, random data
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "scan-swift",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "SCANModel", targets: ["SCANModel"]),
        .library(name: "SCANData", targets: ["SCANData"]),
        .library(name: "SCANIndex", targets: ["SCANIndex"]),
        .library(name: "SCANSearch", targets: ["SCANSearch"]),
        .library(name: "SCANTraining", targets: ["SCANTraining"]),
        .library(name: "SCANServe", targets: ["SCANServe"]),
        .executable(name: "scan-data", targets: ["scan-data"]),
        .executable(name: "scan-index", targets: ["scan-index"]),
        .executable(name: "scan-search", targets: ["scan-search"]),
        .executable(name: "scan-serve", targets: ["scan-serve"]),
        .executable(name: "scan-train", targets: ["scan-train"]),
        .executable(name: "scan-eval", targets: ["scan-eval"]),
        .executable(name: "scan-vocab", targets: ["scan-vocab"]),
        .executable(name: "scan-prefilter", targets: ["scan-prefilter"]),
        .executable(name: "scan-model", targets: ["scan-model"]),
        .executable(name: "scan-bench", targets: ["scan-bench"]),
        .executable(name: "scan-demo-world", targets: ["scan-demo-world"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System libraries (Debian: libopenblas-dev, liblmdb-dev, libzstd-dev).
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // Small C kernels compiled with runtime CPU dispatch: Swift's default x86-64 target is SSE2 only, see DESIGN §5.
        .target(name: "CSCANKernels"),

        // Product libraries.
        .target(name: "SCANCore", dependencies: ["CBLAS", "CSCANKernels"]),
        .target(name: "SCANModel", dependencies: ["SCANCore", "CSCANKernels"]),
        .target(name: "SCANData", dependencies: ["SCANCore"]),
        .target(name: "SCANIndex", dependencies: ["SCANCore", "CLMDB", "CZstd", "CSCANKernels"]),
        .target(name: "SCANSearch", dependencies: ["SCANIndex", "SCANModel", "SCANData", "SCANCore", "CSCANKernels"]),
        .target(name: "SCANTraining", dependencies: ["SCANModel", "SCANData", "SCANCore", "CSCANKernels"]),
        .target(name: "SCANServe", dependencies: ["SCANSearch", "SCANIndex", "SCANCore", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Prometheus", package: "swift-prometheus")]),
        .target(name: "SCANCommandLine", dependencies: ["SCANCore", argumentParser]),

        // Not products: the synthetic demo world and the benchmarks.
        .target(name: "SCANSynthetic", dependencies: ["SCANTraining", "SCANData", "SCANCore"]),
        .target(name: "SCANBenchmarks", dependencies: ["SCANSearch", "SCANTraining", "SCANSynthetic", "SCANIndex", "SCANModel", "SCANData", "SCANCore", "CSCANKernels"]),

        // Thin command-line tools.
        .executableTarget(name: "scan-data", dependencies: ["SCANData", "SCANCommandLine", argumentParser]),
        .executableTarget(name: "scan-index", dependencies: ["SCANSearch", "SCANCommandLine", argumentParser]),
        .executableTarget(name: "scan-search", dependencies: ["SCANSearch", "SCANCommandLine", argumentParser]),
        .executableTarget(name: "scan-serve", dependencies: ["SCANServe", "SCANSearch", "SCANCommandLine", .product(name: "Hummingbird", package: "hummingbird"), argumentParser]),
        .executableTarget(name: "scan-train", dependencies: ["SCANTraining", "SCANCommandLine", argumentParser]),
        .executableTarget(name: "scan-eval", dependencies: ["SCANTraining", "SCANCommandLine", argumentParser]),
        .executableTarget(name: "scan-vocab", dependencies: ["SCANTraining", argumentParser]),
        .executableTarget(name: "scan-prefilter", dependencies: ["SCANTraining", "SCANCommandLine", argumentParser]),
        .executableTarget(name: "scan-model", dependencies: ["SCANModel", "SCANCommandLine", argumentParser]),
        // Benchmarks and the demo generator live under Tools/ (they print numbers; nothing is asserted).
        .executableTarget(name: "scan-bench", dependencies: ["SCANBenchmarks", "SCANSearch", "SCANCommandLine", argumentParser], path: "Tools/scan-bench"),
        .executableTarget(name: "scan-demo-world", dependencies: ["SCANSynthetic", "SCANTraining", argumentParser], path: "Tools/scan-demo-world"),

        // Tests: one target per library, plus the shared test support.
        .target(name: "TestSupport", dependencies: ["SCANModel"], path: "Tests/TestSupport"),
        .testTarget(name: "SCANCoreTests", dependencies: ["SCANCore", "CSCANKernels", "TestSupport"]),
        .testTarget(name: "SCANModelTests", dependencies: ["SCANModel", "CSCANKernels", "TestSupport"]),
        .testTarget(name: "SCANDataTests", dependencies: ["SCANData", "TestSupport"]),
        .testTarget(name: "SCANIndexTests", dependencies: ["SCANIndex", "CZstd", "TestSupport"]),
        .testTarget(name: "SCANSearchTests", dependencies: ["SCANSearch", "SCANTraining", "SCANSynthetic", "SCANBenchmarks", "TestSupport"]),
        .testTarget(name: "SCANTrainingTests", dependencies: ["SCANTraining", "SCANSynthetic", "TestSupport"]),
        .testTarget(name: "SCANServeTests", dependencies: ["SCANServe", "SCANSearch", "SCANIndex", "SCANSynthetic", "SCANTraining", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")]),
    ]
)
