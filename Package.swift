// swift-tools-version:6.0
// bertd — fine-tune and serve BERT-family text classifiers on CPU.
// Targets follow ARCHITECTURE.md: C shims, the engine (BertCore), tokenizers, the pipeline that joins
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
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bertd", targets: ["bertd"]),
        .executable(name: "bertctl", targets: ["bertctl"]),
        .library(name: "BertCore", targets: ["BertCore"]),
        .library(name: "BertTraining", targets: ["BertTraining"]),
        .library(name: "BertTokenizers", targets: ["BertTokenizers"]),
        .library(name: "BertPipeline", targets: ["BertPipeline"]),
        .library(name: "BertBaselines", targets: ["BertBaselines"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
    ],
    targets: [
        // System-library shims: a module map and a header each, nothing else.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),

        // The int8 kernels (quantize, pack, GEMM) in C: AVX-512 VNNI, AVX2 and portable versions of
        // each, chosen at run time by CPU feature, so the target itself is built for the baseline
        // (per-function target attributes enable the instructions). No FMA contraction: every
        // version's output stage must round as the portable one does.
        .target(name: "CQuantizedKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
        // fp32 dense layers over few rows (a single sentence): AVX-512 and AVX2 + FMA versions
        // with weight prefetching, chosen at run time (per-function target attributes); the
        // exact GELU with bias in AVX2. No FMA contraction: the GELU must round as Swift's does.
        .target(name: "CDenseKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
        // Numerics: tensors, kernels, safetensors, config.json, model families and heads.
        .target(name: "BertCore", dependencies: ["COpenBLAS", "CQuantizedKernels", "CDenseKernels"], swiftSettings: kernelFlags),
        // Fine-tuning: backward passes, losses, AdamW, LoRA over BertCore's kernels.
        .target(name: "BertTraining", dependencies: ["BertCore", "BertTokenizers", "COpenBLAS"], swiftSettings: kernelFlags),
        // The linear baseline a transformer is compared with: TF-IDF word and char n-grams and an
        // L2-regularised logistic regression fitted by L-BFGS, matching scikit-learn.
        .target(name: "BertBaselines", dependencies: ["BertTraining", "BertCore"], swiftSettings: kernelFlags),
        // Few-shot training (SetFit's recipe): the encoder tuned on sentence pairs, a logistic
        // regression on its embeddings.
        .target(name: "BertFewShot", dependencies: ["BertTraining", "BertBaselines", "BertCore", "BertTokenizers"], swiftSettings: kernelFlags),
        // libzmq for Swift: context, sockets, multipart messages, poll, CURVE.
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
        // The wire protocol shared by the daemon and its clients: requests, replies, error codes.
        .target(name: "BertProtocol"),
        // Text → token ids. No numerics.
        .target(name: "BertTokenizers"),
        // A model directory as one loaded thing: tokenizer + encoder + head + labels.
        .target(name: "BertPipeline", dependencies: ["BertCore", "BertTokenizers"]),

        // Explanations as clients and people see them: the reply JSON, terminal and HTML views.
        .target(name: "BertExplanations", dependencies: ["BertTraining", "BertPipeline", "BertProtocol", "BertTokenizers"]),

        // The daemon as a library: scheduler, registry, socket loop, configuration, systemd.
        .target(name: "BertServer", dependencies: [
            "BertPipeline", "BertProtocol", "BertTokenizers", "BertTraining", "BertExplanations", "BertBaselines", "BertFewShot", "ZeroMQ", "CSystemd",
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        // HTTP for the daemon: JSON routes, compatibility shapes and health on Hummingbird, feeding
        // BertServer's one dispatch entry point.
        .target(name: "BertGateway", dependencies: [
            "BertServer", "BertProtocol", "BertCore",
            .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"), .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        ]),

        .executableTarget(
            name: "bertd",
            dependencies: ["BertServer", "BertGateway", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "bertctl",
            dependencies: [
                "BertPipeline", "BertProtocol", "BertTraining", "BertExplanations", "BertBaselines", "BertFewShot", "ZeroMQ",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(name: "BertCoreTests", dependencies: ["BertCore", "BertPipeline", "CDenseKernels"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "BertTrainingTests", dependencies: ["BertTraining", "BertCore", "BertTokenizers"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "BertBaselinesTests", dependencies: ["BertBaselines", "BertTraining", "BertCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "BertTokenizersTests", dependencies: ["BertTokenizers"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "BertCtlTests", dependencies: ["bertctl", "BertCore"]),
        .testTarget(name: "BertFewShotTests", dependencies: ["BertFewShot", "BertTraining", "BertBaselines", "BertCore", "BertPipeline"]),
        .testTarget(name: "BertProtocolTests", dependencies: ["BertProtocol", "ZeroMQ"]),
        .testTarget(name: "BertServerTests", dependencies: ["BertServer", "BertProtocol", "ZeroMQ", "bertd", "bertctl"]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["COpenBLAS", "CZeroMQ", "CSystemd"]),
    ],
    swiftLanguageModes: [.v5]
)
