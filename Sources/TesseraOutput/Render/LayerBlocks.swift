/// Groups of layers for pictures: a layer's block is its name up to the last `.` (`layer1.2.conv1`
/// is in `layer1.2`, `encoder.3.attn.qkv` in `encoder.3.attn`); a name with no `.` is its own block.
///
/// Operations of one workload layer always share a block, so a block is also the natural cluster
/// when a layer expands into several operations.
public enum LayerBlocks {
    public static func block(of name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    /// For each name, the index of its block among consecutive runs: names in the same block next
    /// to each other share an index; a block that comes back later gets a new one.
    public static func indices(_ names: [String]) -> [Int] {
        var out: [Int] = []
        var previous: String?
        var index = -1
        for n in names {
            let b = block(of: n)
            if b != previous {
                index += 1
                previous = b
            }
            out.append(index)
        }
        return out
    }
}
