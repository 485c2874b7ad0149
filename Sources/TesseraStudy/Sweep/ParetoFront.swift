/// The points no other point beats: the non-dominated set of vectors, every coordinate minimised
/// (negate one to maximise it).
///
/// p dominates q when p ≤ q in every coordinate and p < q in at least one. Vectors are sorted
/// lexicographically, so every point that could dominate a vector comes before it, and each is
/// checked only against the front found so far. Equal vectors do not dominate each other: both are
/// on the front. A vector with a NaN is never on it.
/// - Complexity: O(n log n + n·f·d) for n vectors of d coordinates and a front of f.
public enum ParetoFront {
    /// The indices (into `vectors`) of the non-dominated vectors, ascending.
    public static func indices(_ vectors: [[Double]]) -> [Int] {
        let candidates = vectors.indices.filter { !vectors[$0].contains(where: \.isNaN) }
        let order = candidates.sorted { a, b in
            let (x, y) = (vectors[a], vectors[b])
            for (u, v) in zip(x, y) where u != v { return u < v }
            return a < b
        }
        var front: [Int] = []
        for i in order where !front.contains(where: { dominates(vectors[$0], vectors[i]) }) {
            front.append(i)
        }
        return front.sorted()
    }

    /// True when `p` dominates `q`.
    public static func dominates(_ p: [Double], _ q: [Double]) -> Bool {
        var strictly = false
        for (u, v) in zip(p, q) {
            if u > v { return false }
            if u < v { strictly = true }
        }
        return strictly
    }
}
