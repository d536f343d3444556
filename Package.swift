// swift-tools-version:6.0
// bertd — fine-tune and serve BERT-family text classifiers on CPU.
// Targets follow DESIGN.md: C shims, the engine (BertCore), tokenizers, the pipeline that joins
// them, and thin executables on top.
import PackageDescription

// The kernels are written with 8-wide SIMD and fused multiply-add: build them for x86-64-v3
// (AVX2 + FMA: every x86 server CPU since 2015). OpenBLAS picks its own kernels at run time.
#if arch(x86_64)
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let kernelFlags: [SwiftSetting] = []
#endif

let package = Package(
    name: "bertd",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "bertctl", targets: ["bertctl"]),
        .library(name: "BertCore", targets: ["BertCore"]),
        .library(name: "BertTokenizers", targets: ["BertTokenizers"]),
        .library(name: "BertPipeline", targets: ["BertPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System-library shims: a module map and a header each, nothing else.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),

        // Numerics: tensors, kernels, safetensors, config.json, model families and heads.
        .target(name: "BertCore", dependencies: ["COpenBLAS"], swiftSettings: kernelFlags),
        // Text → token ids. No numerics.
        .target(name: "BertTokenizers"),
        // A model directory as one loaded thing: tokenizer + encoder + head + labels.
        .target(name: "BertPipeline", dependencies: ["BertCore", "BertTokenizers"]),

        .executableTarget(
            name: "bertctl",
            dependencies: [
                "BertPipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "BertCoreTests", dependencies: ["BertCore", "BertPipeline"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "BertTokenizersTests", dependencies: ["BertTokenizers"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "BertCtlTests", dependencies: ["bertctl"]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["COpenBLAS", "CZeroMQ", "CSystemd"]),
    ],
    swiftLanguageModes: [.v5]
)
