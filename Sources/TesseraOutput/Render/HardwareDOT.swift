import TesseraCore
import TesseraModel

/// The hardware as a graph: DRAM, the SRAM buffers and the compute arrays as nodes labeled with
/// their key parameters, and the data paths between them labeled with their bandwidth.
///
/// Ranks run left to right: DRAM → operand buffers → arrays. The ofmap buffer's edges point back
/// towards DRAM (outputs flow array → ofmap → DRAM); a shared buffer's edges point both ways.
public struct HardwareDOT: Sendable {
    public var hardware: HardwareModel

    public init(_ hardware: HardwareModel) { self.hardware = hardware }

    public func build() -> DOTDocument {
        let clock = hardware.clock.hertz
        var s = "digraph hardware {\n"
        s +=
            "  graph \(DOTText.attributes([("rankdir", "LR"), ("fontname", "Helvetica"), ("fontsize", "16"), ("labelloc", "t"), ("nodesep", "0.35"), ("ranksep", "1.4"), ("pad", "0.3"), ("label", "\(DOTText.literal(hardware.spec.name)) — \(DOTText.frequency(clock))\n\n")]))\n"
        s += "  node \(DOTText.attributes([("fontname", "Helvetica"), ("fontsize", "12"), ("style", "filled"), ("penwidth", "1.2")]))\n"
        s += "  edge \(DOTText.attributes([("fontname", "Helvetica"), ("fontsize", "11"), ("color", "#555555"), ("fontcolor", "#333333")]))\n"

        let dram = hardware.dram
        let dramBandwidth = dram.bandwidth.map { "\($0)" } ?? "unlimited"
        var dramLines = [hardware.hostLink == nil ? "DRAM" : "on-chip memory", dramBandwidth, "latency \(DOTText.seconds(dram.latency.seconds))"]
        if let size = dram.sizeBytes { dramLines.insert(formatBytes(size), at: 1) }
        let dramLabel = DOTText.titled(dram.name, dramLines)
        s +=
            "  \(id("dram", dram.name)) \(DOTText.attributes([("shape", "cylinder"), ("fillcolor", "#fde3c8"), ("color", "#c46a12"), ("label", dramLabel), ("height", "1.3")]))\n"
        if let link = hardware.hostLink {
            // The host's memory, beyond the link: the weights that do not fit on chip stream from it.
            let label = DOTText.titled(link.name, ["host link", "\(link.bandwidth)", "latency \(DOTText.seconds(link.latency.seconds))"])
            s += "  \(id("host", link.name)) \(DOTText.attributes([("shape", "cds"), ("fillcolor", "#eeeeee"), ("color", "#777777"), ("label", label)]))\n"
            s += "  { rank=min; \(id("host", link.name)) }\n"
            s += "  \(id("host", link.name)) -> \(id("dram", dram.name)) \(DOTText.attributes([("label", "weights that do not fit"), ("style", "dashed")]))\n"
        }

        for b in hardware.buffers {
            let label = DOTText.titled(
                b.name,
                [
                    "SRAM · \(b.role.rawValue) · \(formatBytes(b.sizeBytes))", "double-buffered",
                    "read \(bytesPerCycle(b.readBytesPerCycle)) · write \(bytesPerCycle(b.writeBytesPerCycle))",
                ])
            s +=
                "  \(id("sram", b.name)) \(DOTText.attributes([("shape", "box"), ("style", "filled,rounded"), ("fillcolor", "#dcebf7"), ("color", "#2f6ea5"), ("label", label)]))\n"
        }
        for a in hardware.arrays {
            let label = DOTText.titled(
                a.name,
                [
                    "systolic array \(a.rows)×\(a.cols) · \(DOTText.grouped(UInt64(a.peCount))) PEs", "\(a.dataflow.rawValue) (\(a.dataflow.short))",
                    "peak \(DOTText.si(UInt64(Double(a.peCount) * clock)))MAC/s",
                ])
            s += "  \(id("array", a.name)) \(DOTText.attributes([("shape", "box3d"), ("fillcolor", "#d8efd3"), ("color", "#3b8a2e"), ("label", label)]))\n"
        }
        for a in hardware.sparseArrays {
            let label = DOTText.titled(
                a.name,
                [
                    "N:M sparse array \(a.rows)×\(a.cols) · \(DOTText.grouped(UInt64(a.peCount))) PEs · \(a.precision.rawValue)",
                    "patterns " + a.patterns.map(\.description).joined(separator: ", ") + " · +\(a.sparseStages) stage\(a.sparseStages == 1 ? "" : "s") sparse",
                    a.dataflows.map(\.short).joined(separator: "/") + " per op · peak \(DOTText.si(UInt64(Double(a.peCount) * clock)))MAC/s dense",
                ])
            s += "  \(id("array", a.name)) \(DOTText.attributes([("shape", "box3d"), ("fillcolor", "#d8efd3"), ("color", "#3b8a2e"), ("label", label)]))\n"
        }
        // Units beside the array: the mask generator prunes weights, the vector unit runs the rest.
        for m in hardware.maskGenerators {
            let label = DOTText.titled(m.name, ["mask generator · \(m.lanes) sorter lanes", "\(m.cyclesPerElement) cycle\(m.cyclesPerElement == 1 ? "" : "s") per weight"])
            s += "  \(id("unit", m.name)) \(DOTText.attributes([("shape", "box"), ("style", "filled,rounded"), ("fillcolor", "#eadcf5"), ("color", "#6b3f91"), ("label", label)]))\n"
        }
        for v in hardware.vectorUnits {
            let label = DOTText.titled(v.name, ["vector unit · \(v.lanes) lanes · \(v.precision.rawValue)", "pipeline depth \(v.pipelineDepth)"])
            s += "  \(id("unit", v.name)) \(DOTText.attributes([("shape", "box"), ("style", "filled,rounded"), ("fillcolor", "#fff2c6"), ("color", "#a07c12"), ("label", label)]))\n"
        }
        for c in hardware.cpuClusters {
            let label = DOTText.titled(
                c.name, ["CPU · \(c.cores) core\(c.cores == 1 ? "" : "s") × \(c.lanes) lanes at \(DOTText.frequency(c.clock.hertz))", "efficiency \(formatDecimal(c.efficiency))"])
            s += "  \(id("unit", c.name)) \(DOTText.attributes([("shape", "box"), ("style", "filled,rounded"), ("fillcolor", "#e4e4e4"), ("color", "#555555"), ("label", label)]))\n"
        }
        let computeIDs = hardware.arrays.map { id("array", $0.name) } + hardware.sparseArrays.map { id("array", $0.name) }
        let unitIDs = hardware.maskGenerators.map { id("unit", $0.name) } + hardware.vectorUnits.map { id("unit", $0.name) } + hardware.cpuClusters.map { id("unit", $0.name) }

        let dramEdge = dram.bandwidth.map { "\($0)" } ?? "unlimited"
        let roles = Set(hardware.buffers.map(\.role))
        for b in hardware.buffers {
            let buffer = id("sram", b.name)
            let toDRAM: String
            let toArray: String
            let direction: String
            switch b.role {
            case .ifmap, .filter:
                direction = "forward"
                toDRAM = dramEdge
                toArray = "\(bytesPerCycle(b.readBytesPerCycle)) (\(gbps(b.readBytesPerCycle * clock)))"
            case .ofmap:
                direction = "back"
                toDRAM = dramEdge
                toArray = "\(bytesPerCycle(b.writeBytesPerCycle)) (\(gbps(b.writeBytesPerCycle * clock)))"
            case .shared:
                // A shared buffer holds every operand that has no buffer of its own.
                direction = roles.contains(.ofmap) ? "forward" : "both"
                toDRAM = dramEdge
                toArray = "read \(bytesPerCycle(b.readBytesPerCycle)), write \(bytesPerCycle(b.writeBytesPerCycle))"
            }
            s += "  \(id("dram", dram.name)) -> \(buffer) \(DOTText.attributes([("label", toDRAM), ("dir", direction), ("penwidth", "1.6")]))\n"
            for a in computeIDs {
                s += "  \(buffer) -> \(a) \(DOTText.attributes([("label", toArray), ("dir", direction), ("penwidth", "1.6")]))\n"
            }
        }
        if hardware.buffers.isEmpty {
            for a in computeIDs {
                s += "  \(id("dram", dram.name)) -> \(a) \(DOTText.attributes([("label", dramEdge), ("dir", "both")]))\n"
            }
        }
        // The units stream their tiles through the buffers from DRAM; drawn from DRAM, dashed.
        for u in unitIDs {
            s += "  \(id("dram", dram.name)) -> \(u) \(DOTText.attributes([("label", dramEdge), ("dir", "both"), ("style", "dashed")]))\n"
        }
        s += "}\n"
        return DOTDocument(text: s, engine: "dot")
    }

    private func id(_ kind: String, _ name: String) -> String { DOTText.quote("\(kind):\(name)") }

    private func bytesPerCycle(_ x: Double) -> String { "\(formatDecimal(x)) B/cycle" }

    private func gbps(_ bytesPerSecond: Double) -> String { "\(formatDecimal(bytesPerSecond / 1e9)) GB/s" }
}
