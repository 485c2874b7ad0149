import Foundation

/// The package root, from this file's place in the tree (Tests/TesseraTestSupport/).
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
