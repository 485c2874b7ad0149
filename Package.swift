// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Tessera",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tessera", targets: ["tessera"]),
        .library(name: "TesseraOutput", targets: ["TesseraOutput"]),
        .library(name: "TesseraStudy", targets: ["TesseraStudy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CGraphviz",
            pkgConfig: "libgvc",
            providers: [.apt(["libgraphviz-dev"])]
        ),
        .target(name: "TesseraCore"),
        .target(
            name: "TesseraSpec",
            dependencies: ["TesseraCore", "Yams", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(name: "TesseraModel", dependencies: ["TesseraCore", "TesseraSpec"]),
        .target(name: "TesseraGraph", dependencies: ["TesseraCore", "TesseraSpec", "TesseraModel"]),
        .target(name: "TesseraPlan", dependencies: ["TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph"]),
        .target(
            name: "TesseraSim",
            dependencies: [
                "TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph", "TesseraPlan",
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "TesseraOutput",
            dependencies: ["TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph", "TesseraPlan", "TesseraSim", "CGraphviz"]
        ),
        .target(
            name: "TesseraFamilies",
            dependencies: ["TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph", "TesseraPlan", "TesseraSim", "TesseraOutput"]
        ),
        .target(
            name: "TesseraStudy",
            dependencies: ["TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph", "TesseraPlan", "TesseraSim", "TesseraOutput", "TesseraFamilies"]
        ),
        .executableTarget(
            name: "tessera",
            dependencies: [
                "TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph", "TesseraPlan", "TesseraSim", "TesseraOutput", "TesseraFamilies", "TesseraStudy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "tessera-bench",
            dependencies: [
                "TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph", "TesseraPlan", "TesseraSim", "TesseraOutput", "TesseraFamilies", "TesseraStudy",
                "TesseraTestSupport",
            ],
            path: "Benchmarks/tessera-bench"
        ),
        // Helpers shared by the test targets (seeded generators, cluster files).
        .target(name: "TesseraTestSupport", dependencies: ["TesseraCore", "TesseraSpec", "TesseraModel"], path: "Tests/TesseraTestSupport"),
        .testTarget(name: "TesseraCoreTests", dependencies: ["TesseraCore"]),
        .testTarget(name: "TesseraSpecTests", dependencies: ["TesseraCore", "TesseraSpec", "TesseraModel", "TesseraTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "TesseraModelTests",
            dependencies: ["TesseraCore", "TesseraSpec", "TesseraModel", "TesseraTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "TesseraGraphTests", dependencies: ["TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph", "TesseraTestSupport"]),
        .testTarget(name: "TesseraPlanTests", dependencies: ["TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph", "TesseraPlan", "TesseraTestSupport"]),
        .testTarget(
            name: "TesseraSimTests", dependencies: ["TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph", "TesseraPlan", "TesseraSim", "TesseraTestSupport"]),
        .testTarget(
            name: "TesseraOutputTests",
            dependencies: [
                "TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph", "TesseraPlan", "TesseraSim", "TesseraOutput", "TesseraFamilies", "TesseraStudy",
                "TesseraTestSupport",
            ]
        ),
        .testTarget(
            name: "TesseraFamiliesTests",
            dependencies: [
                "TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph", "TesseraPlan", "TesseraSim", "TesseraOutput", "TesseraFamilies", "TesseraStudy",
                "TesseraTestSupport",
            ]
        ),
        .testTarget(
            name: "TesseraStudyTests",
            dependencies: [
                "TesseraCore", "TesseraSpec", "TesseraModel", "TesseraGraph", "TesseraPlan", "TesseraSim", "TesseraOutput", "TesseraFamilies", "TesseraStudy",
                "TesseraTestSupport",
            ],
            resources: [.copy("Golden")]
        ),
        .testTarget(name: "tesseraTests", dependencies: ["tessera"]),
    ]
)
