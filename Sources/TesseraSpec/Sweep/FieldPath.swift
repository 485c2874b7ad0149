import TesseraCore

/// A dotted path to one field of a spec tree, such as `compute.array.rows` or `memory.dram.bandwidth`.
///
/// Each segment is a mapping key, or, inside a list, the `name` of an item (a name may hold dots:
/// the longest run of segments that names an item wins, so `layers.layer1.0.conv1.filters` works)
/// or an index from 0 in a list of unnamed items. Resolving a path against a tree gives the
/// `steps` that reach the field, or what stopped it, with the keys or names that were there.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public var segments: [String]

    public init(_ text: String) {
        segments = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    public init(segments: [String]) { self.segments = segments }

    public var description: String { segments.joined(separator: ".") }

    /// One step down a spec tree.
    public enum Step: Sendable, Hashable {
        case key(String)
        case item(name: String)
        case index(Int)
    }

    /// Where a path leads in one tree.
    public enum Resolution: Sendable, Hashable {
        /// The field exists.
        case exists([Step])
        /// Every segment but the last leads to a mapping that lacks the last key: setting the path
        /// adds the key (the loader then decides whether it is a field it knows).
        case addable([Step], key: String)
        /// The path stops at segment `depth` (0-based): `problem` says why, `expected` what was there.
        case stopped(depth: Int, problem: String, expected: String, found: String, hint: String?)

        /// Segments resolved before the path stopped (all of them when it exists or is addable).
        public var depth: Int {
            switch self {
            case .exists(let s): s.count
            case .addable(let s, _): s.count + 1
            case .stopped(let d, _, _, _, _): d
            }
        }
    }

    /// Follows the path through `root`.
    /// - Complexity: O(segments × items per list × segments) for the longest-name match.
    public func resolve(in root: SpecNode) -> Resolution {
        var node = root
        var steps: [Step] = []
        var i = 0
        while i < segments.count {
            let here = segments[..<i].joined(separator: ".")
            let place = here.isEmpty ? "the top level" : "'\(here)'"
            switch node.value {
            case .mapping(let entries):
                let key = segments[i]
                if let e = entries.first(where: { $0.key == key }) {
                    steps.append(.key(key))
                    node = e.value
                    i += 1
                } else if i == segments.count - 1 {
                    return .addable(steps, key: key)
                } else {
                    let keys = entries.map(\.key)
                    return .stopped(
                        depth: i, problem: "no key '\(key)' at \(place)", expected: "one of " + keys.map { "'\($0)'" }.joined(separator: ", "),
                        found: "'\(key)'", hint: closestMatch(to: key, in: keys).map { "did you mean '\($0)'?" })
                }
            case .sequence(let items):
                let names = items.compactMap { $0["name"]?.scalar }
                var matched: (Int, Int)?
                if names.count == items.count {
                    for j in stride(from: segments.count - 1, through: i, by: -1) {
                        let candidate = segments[i...j].joined(separator: ".")
                        if let k = items.firstIndex(where: { $0["name"]?.scalar == candidate }) {
                            matched = (k, j)
                            break
                        }
                    }
                }
                if let (k, j) = matched {
                    steps.append(.item(name: segments[i...j].joined(separator: ".")))
                    node = items[k]
                    i = j + 1
                } else if names.count != items.count, let k = Int(segments[i]), k >= 0, k < items.count {
                    steps.append(.index(k))
                    node = items[k]
                    i += 1
                } else if names.count == items.count {
                    return .stopped(
                        depth: i, problem: "no item named '\(segments[i])' in \(place)",
                        expected: "an item name: " + names.map { "'\($0)'" }.joined(separator: ", "), found: "'\(segments[i])'",
                        hint: closestMatch(to: segments[i], in: names).map { "did you mean '\($0)'?" })
                } else {
                    return .stopped(
                        depth: i, problem: "no item \(segments[i]) in \(place)", expected: "an index from 0 to \(items.count - 1)",
                        found: "'\(segments[i])'", hint: nil)
                }
            case .scalar:
                return .stopped(
                    depth: i, problem: "\(place) is a value, not a mapping or a list", expected: "a path that ends at '\(here)'",
                    found: "more after it: '\(segments[i...].joined(separator: "."))'", hint: nil)
            }
        }
        return .exists(steps)
    }
}

extension SpecNode {
    /// A copy of this tree with the field reached by `steps` replaced by `value`; when `addKey` is
    /// given, the mapping reached by `steps` gains that key (at `keyLocation`) holding `value`.
    /// The steps must come from `FieldPath.resolve` on this tree; a step that no longer matches
    /// leaves the tree as it is.
    public func replacing(_ steps: ArraySlice<FieldPath.Step>, with value: SpecNode, addKey: String? = nil, keyLocation: SourceLocation) -> SpecNode {
        guard let step = steps.first else {
            guard let addKey else { return value }
            guard case .mapping(var entries) = self.value else { return self }
            entries.append(Entry(key: addKey, keyLocation: keyLocation, value: value))
            return SpecNode(.mapping(entries), at: location)
        }
        let rest = steps.dropFirst()
        switch (step, self.value) {
        case (.key(let key), .mapping(var entries)):
            guard let i = entries.firstIndex(where: { $0.key == key }) else { return self }
            entries[i].value = entries[i].value.replacing(rest, with: value, addKey: addKey, keyLocation: keyLocation)
            return SpecNode(.mapping(entries), at: location)
        case (.item(let name), .sequence(var items)):
            guard let i = items.firstIndex(where: { $0["name"]?.scalar == name }) else { return self }
            items[i] = items[i].replacing(rest, with: value, addKey: addKey, keyLocation: keyLocation)
            return SpecNode(.sequence(items), at: location)
        case (.index(let i), .sequence(var items)) where i >= 0 && i < items.count:
            items[i] = items[i].replacing(rest, with: value, addKey: addKey, keyLocation: keyLocation)
            return SpecNode(.sequence(items), at: location)
        default:
            return self
        }
    }

    /// The value as a person reads it in one line: a scalar's text, structures in YAML flow style.
    public var flowText: String { flowText(nested: false) }

    private func flowText(nested: Bool) -> String {
        switch value {
        case .scalar(let s, let quoted):
            nested && (quoted || s.isEmpty || s.contains(where: { ",:{}[]\"'#".contains($0) }))
                ? "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : s
        case .sequence(let items): "[" + items.map { $0.flowText(nested: true) }.joined(separator: ", ") + "]"
        case .mapping(let entries): "{" + entries.map { "\($0.key): \($0.value.flowText(nested: true))" }.joined(separator: ", ") + "}"
        }
    }

    /// The value without its places, written so that equal values give equal text: what a digest
    /// of the meaning of a spec is taken over.
    public var canonicalText: String {
        switch value {
        case .scalar(let s, let quoted): (quoted ? "q" : "s") + "\(s.utf8.count):" + s
        case .sequence(let items): "[" + items.map(\.canonicalText).joined(separator: ",") + "]"
        case .mapping(let entries): "{" + entries.map { "\($0.key.utf8.count):\($0.key)=\($0.value.canonicalText)" }.joined(separator: ",") + "}"
        }
    }
}
