import TesseraCore
import TesseraSpec

/// An on-chip SRAM buffer (scratchpad) with a size, per-cycle port bandwidths and a role.
///
/// Buffers are double-buffered: half the size holds the tile being computed on, the other half
/// receives the next tile (or drains the previous outputs).
public struct SRAMBuffer: ComponentModel {
    /// Which operand a buffer holds; `shared` holds all three.
    public enum Role: String, Sendable, Hashable, CaseIterable { case ifmap, filter, ofmap, shared }

    public static let schema = ComponentSchema(
        kind: "sram", role: .memory, summary: "on-chip SRAM buffer, double-buffered",
        parameters: [
            ParameterDecl("size", .quantity(.size), "capacity of the buffer (both halves)"),
            ParameterDecl("read", .quantity(.bytesPerCycle), default: .number(64), defaultText: "64 B/cycle", "read bandwidth in bytes per cycle of the hardware clock"),
            ParameterDecl("write", .quantity(.bytesPerCycle), default: .number(64), defaultText: "64 B/cycle", "write bandwidth in bytes per cycle"),
            ParameterDecl("role", .choice(Role.allCases.map(\.rawValue), aliases: [:]), default: .string("shared"), "operand held: ifmap, filter, ofmap, or shared"),
        ])

    public var name: String
    public var sizeBytes: UInt64
    public var readBytesPerCycle: Double
    public var writeBytesPerCycle: Double
    public var role: Role

    public init(spec: ComponentSpec) {
        name = spec.name
        sizeBytes = UInt64(spec.number("size") ?? 0)
        readBytesPerCycle = spec.number("read") ?? 64
        writeBytesPerCycle = spec.number("write") ?? 64
        role = Role(rawValue: spec.string("role")) ?? .shared
    }

    public init(name: String, sizeBytes: UInt64, read: Double = 64, write: Double = 64, role: Role) {
        self.name = name
        self.sizeBytes = sizeBytes
        self.readBytesPerCycle = read
        self.writeBytesPerCycle = write
        self.role = role
    }
}
