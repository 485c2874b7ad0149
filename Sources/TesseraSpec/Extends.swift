import Foundation
import TesseraCore

/// Resolves `extends: other.yaml` by loading the parent (relative to the child's file) and
/// merging the child over it.
///
/// Merge rules: mappings merge key by key, recursively; a list whose items are all mappings with a
/// `name` merges item by item on that name (new names are appended); any other value in the child
/// replaces the parent's. Chains are followed; a cycle is an error at the `extends` that closes it.
enum Extends {
    static func resolve(_ node: SpecNode, file: String, chain: [String] = []) throws(InputError) -> SpecNode {
        guard let entries = node.entries, let ext = entries.first(where: { $0.key == "extends" }) else { return node }
        guard let target = ext.value.scalar, !target.isEmpty else {
            throw InputError(Diagnostic(at: ext.value.location, "'extends' must name a file", expected: "a path such as 'base.yaml'", found: ext.value.kindDescription))
        }
        let path = joinPath(directory(of: file), target)
        let me = absolute(file)
        if chain.contains(absolute(path)) || absolute(path) == me {
            throw InputError(
                Diagnostic(
                    at: ext.value.location, "'extends' cycle: \((chain + [me, absolute(path)]).map { lastComponent($0) }.joined(separator: " → "))",
                    expected: "a chain of files that ends", found: "'\(target)' again"))
        }
        let parentRaw = try YAMLReader.load(path: path, referencedFrom: ext.value.location)
        let parent = try resolve(parentRaw, file: path, chain: chain + [me])
        var child = node
        child.value = .mapping(entries.filter { $0.key != "extends" })
        return merge(parent, child)
    }

    static func directory(of path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "" }
        return String(path[..<i])
    }
    static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
    /// `target` relative to `dir`, as the user would write it (no absolute path is invented).
    static func joinPath(_ dir: String, _ target: String) -> String {
        if target.hasPrefix("/") || dir.isEmpty { return target }
        return dir + "/" + target
    }
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    static func merge(_ parent: SpecNode, _ child: SpecNode) -> SpecNode {
        switch (parent.value, child.value) {
        case (.mapping(let p), .mapping(let c)):
            var out = p
            for e in c {
                if let i = out.firstIndex(where: { $0.key == e.key }) {
                    out[i] = SpecNode.Entry(key: e.key, keyLocation: e.keyLocation, value: merge(out[i].value, e.value))
                } else {
                    out.append(e)
                }
            }
            return SpecNode(.mapping(out), at: child.location)
        case (.sequence(let p), .sequence(let c)) where namedItems(p) && namedItems(c):
            var out = p
            for item in c {
                if let i = out.firstIndex(where: { $0["name"]?.scalar == item["name"]?.scalar }) {
                    out[i] = merge(out[i], item)
                } else {
                    out.append(item)
                }
            }
            return SpecNode(.sequence(out), at: child.location)
        default:
            return child
        }
    }

    private static func namedItems(_ items: [SpecNode]) -> Bool {
        items.allSatisfy { $0["name"]?.scalar != nil }
    }
}

/// Reads the `tessera: 1` header every file starts with.
enum Header {
    static let schemaVersion = 1

    static func check(_ reader: inout MappingReader, bag: inout DiagnosticBag) {
        if let v = reader.required("tessera", expected: "the schema version, 1", bag: &bag) {
            if v.scalar != "1" {
                bag.error(v.location, "unsupported schema version", expected: "tessera: 1", found: v.kindDescription)
            }
        }
    }
}
