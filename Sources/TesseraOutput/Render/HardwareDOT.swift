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
        let dramLabel = DOTText.titled(dram.name, ["DRAM", dramBandwidth, "latency \(DOTText.seconds(dram.latency.seconds))"])
        s +=
            "  \(id("dram", dram.name)) \(DOTText.attributes([("shape", "cylinder"), ("fillcolor", "#fde3c8"), ("color", "#c46a12"), ("label", dramLabel), ("height", "1.3")]))\n"

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
            for a in hardware.arrays {
                s += "  \(buffer) -> \(id("array", a.name)) \(DOTText.attributes([("label", toArray), ("dir", direction), ("penwidth", "1.6")]))\n"
            }
        }
        if hardware.buffers.isEmpty {
            for a in hardware.arrays {
                s += "  \(id("dram", dram.name)) -> \(id("array", a.name)) \(DOTText.attributes([("label", dramEdge), ("dir", "both")]))\n"
            }
        }
        s += "}\n"
        return DOTDocument(text: s, engine: "dot")
    }

    private func id(_ kind: String, _ name: String) -> String { DOTText.quote("\(kind):\(name)") }

    private func bytesPerCycle(_ x: Double) -> String { "\(formatDecimal(x)) B/cycle" }

    private func gbps(_ bytesPerSecond: Double) -> String { "\(formatDecimal(bytesPerSecond / 1e9)) GB/s" }
}
