// swift-tools-version:5.9
import PackageDescription

// Dependency graph (one line per target):
//   CBLAS, CLMDB, CZstd, CSCANKernels        system libraries / C kernels, no Swift deps
//   SCANCore      -> CBLAS, CSCANKernels       tensors, BLAS, npy, safetensors, threading
//   SCANModel     -> SCANCore                  config, vocabulary, tokenizer, encoders, cross attention, scoring
//   SCANIndex     -> SCANModel, CLMDB, CZstd   LMDB environment, record codec, writer, reader
//   SCANSearch    -> SCANIndex, SCANModel      prefilter + re-rank
//   SCANTraining  -> SCANModel, CSCANKernels   backward passes, loss, Adam, trainer, evaluation, prefilter fitting
//   SCANServe     -> SCANSearch, SCANIndex, Hummingbird, Prometheus   HTTP routes, JSON types, metrics, page assets
//   SCANCommandLine -> SCANCore, ArgumentParser   the tools' shared entry point
//   scan-serve -> SCANServe, SCANSearch; scan-index, scan-search -> SCANSearch/SCANIndex; scan-train, scan-eval, scan-vocab, scan-prefilter -> SCANTraining
let package = Package(
    name: "scan-swift",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "SCANModel", targets: ["SCANModel"]),
        .library(name: "SCANSearch", targets: ["SCANSearch"]),
        .library(name: "SCANTraining", targets: ["SCANTraining"]),
        .library(name: "SCANServe", targets: ["SCANServe"]),
        .executable(name: "scan-index", targets: ["scan-index"]),
        .executable(name: "scan-search", targets: ["scan-search"]),
        .executable(name: "scan-serve", targets: ["scan-serve"]),
        .executable(name: "scan-train", targets: ["scan-train"]),
        .executable(name: "scan-eval", targets: ["scan-eval"]),
        .executable(name: "scan-vocab", targets: ["scan-vocab"]),
        .executable(name: "scan-prefilter", targets: ["scan-prefilter"]),
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
        // Small C kernels compiled with runtime CPU dispatch (target_clones): Swift's default
        // x86-64 target is SSE2 only, see DESIGN §5.
        .target(name: "CSCANKernels"),

        // Libraries.
        .target(name: "SCANCore", dependencies: ["CBLAS", "CSCANKernels"]),
        .target(name: "SCANModel", dependencies: ["SCANCore"]),
        .target(name: "SCANIndex", dependencies: ["SCANModel", "CLMDB", "CZstd"]),
        .target(name: "SCANSearch", dependencies: ["SCANIndex", "SCANModel"]),
        .target(name: "SCANTraining", dependencies: ["SCANModel", "CSCANKernels"]),
        // The search service (scan-serve): routes, request/response types, metrics, the page.
        .target(name: "SCANServe", dependencies: ["SCANSearch", "SCANIndex", .product(name: "Hummingbird", package: "hummingbird"),
                                                  .product(name: "Prometheus", package: "swift-prometheus")]),
        // The tools' shared entry point (fast BLAS kernel, then parse and run).
        .target(name: "SCANCommandLine", dependencies: ["SCANCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // Thin command-line tools.
        .executableTarget(name: "scan-index", dependencies: ["SCANSearch", "SCANCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "scan-search", dependencies: ["SCANSearch", "SCANCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "scan-serve", dependencies: ["SCANServe", "SCANSearch", "SCANCommandLine", .product(name: "Hummingbird", package: "hummingbird"), .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "scan-train", dependencies: ["SCANTraining", "SCANCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "scan-eval", dependencies: ["SCANTraining", "SCANCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "scan-vocab", dependencies: ["SCANTraining", "SCANCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "scan-prefilter", dependencies: ["SCANTraining", "SCANCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Benchmarks and demo generator live under Tools/ (they print numbers; nothing is asserted).
        .executableTarget(name: "scan-bench", dependencies: ["SCANSearch", "SCANTraining", "CSCANKernels", "SCANCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")], path: "Tools/scan-bench"),
        .executableTarget(name: "scan-demo-world", dependencies: ["SCANTraining", "SCANCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")], path: "Tools/scan-demo-world"),

        // Tests.
        .target(name: "TestSupport", dependencies: ["SCANModel"], path: "Tests/TestSupport"),
        .testTarget(name: "SCANCoreTests", dependencies: ["SCANCore", "CSCANKernels", "TestSupport"]),
        .testTarget(name: "SCANModelTests", dependencies: ["SCANModel", "CSCANKernels", "TestSupport"]),
        .testTarget(name: "SCANIndexTests", dependencies: ["SCANSearch", "SCANTraining", "TestSupport"]),
        .testTarget(name: "SCANTrainingTests", dependencies: ["SCANTraining", "TestSupport"]),
        .testTarget(name: "SCANServeTests", dependencies: ["SCANServe", "SCANSearch", "SCANIndex", "SCANTraining", "TestSupport",
                                                          .product(name: "Hummingbird", package: "hummingbird"),
                                                          .product(name: "HummingbirdTesting", package: "hummingbird")]),
    ]
)
