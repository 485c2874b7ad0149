import CGraphviz

/// The in-process Graphviz library (libgvc), linked through the `CGraphviz` system-library target.
public enum Graphviz {
    /// The version of the linked libgvc, e.g. "2.42.2"; proves the library loads.
    public static func version() -> String {
        GraphvizLock.lock.lock()
        defer { GraphvizLock.lock.unlock() }
        guard let gvc = gvContext() else { return "unavailable" }
        defer { gvFreeContext(gvc) }
        guard let v = gvcVersion(gvc) else { return "unknown" }
        return String(cString: v)
    }
}
