/// Energy per bit that a GPU cluster's links spend for each byte they carry, by link kind (as
/// `ClusterTopology.describe` names them).
///
/// These are stated assumptions, not measurements: vendors publish device power and line rates,
/// not energy per bit, so each figure is a device's power divided by its line rate, discounted
/// to the share that traffic moves. One traversal of one direction of a link is charged once:
///
/// - `nvlink`, `nvswitch-port` (a GPU's NVLink port, the lane and half the NVSwitch it enters or
///   leaves): 5 pJ/bit, so 10 pJ/bit from GPU to GPU through an NVSwitch. Order of electrical
///   SerDes at 100 Gb/s-class lanes; NVIDIA's on-package NVLink-C2C is quoted at 1.3 pJ/bit (Grace
///   Hopper Superchip architecture whitepaper, 2022), a board-level link with a switch costs more.
/// - `nic`, `link`, `ring-link`, `torus-link` (a NIC, its cable or optics and the switch port it
///   enters): 20 pJ/bit. A 400 Gb/s InfiniBand NIC draws about 20–25 W, 50–60 pJ/bit at line rate
///   if all of it moved with traffic; about a third is assumed to.
/// - `leaf-uplink`, `pod-uplink`, `rail-uplink` (switch to switch, optics at both ends and the
///   switch ASIC): 15 pJ/bit.
///
/// Idle network power (NICs, switches and optics that draw power while no traffic moves) is not
/// counted, nor are hosts, cooling and power delivery.
public enum NetworkEnergy {
    /// Picojoules per bit of one traversal of a link of this kind.
    public static func picojoulesPerBit(kind: String) -> Double {
        switch kind {
        case "nvlink", "nvswitch-port": return 5
        case "leaf-uplink", "pod-uplink", "rail-uplink": return 15
        default: return 20
        }
    }

    /// Joules for `bytes` carried once over a link of this kind.
    public static func joules(bytes: Double, kind: String) -> Double { bytes * 8 * picojoulesPerBit(kind: kind) * 1e-12 }

    /// The model note that states these figures.
    public static let note =
        "network energy: each byte a link carries costs 8 x e_bit per traversal of one direction: 5 pJ/bit on NVLink/NVSwitch ports (10 pJ/bit GPU to GPU through a switch), 20 pJ/bit on NIC links, 15 pJ/bit on switch-to-switch uplinks; assumptions from device power / line rate (NVLink-C2C's 1.3 pJ/bit is a lower bound), idle network power, hosts and cooling not counted"
}
