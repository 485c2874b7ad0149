import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraOutput
import TesseraPlan
import TesseraSim
import TesseraSpec

/// `kind: edge-soc`: an NPU, CPU cores, a DSP and shared LPDDR under DVFS and a power budget;
/// layers placed on the units, statically scheduled, governed by the power governor.
public struct EdgeSoCFamily: HardwareFamily {
    public init() {}
    public var kind: String { "edge-soc" }
    public var capabilities: FamilyCapabilities { [.compareDense, .continualLearning] }

    public func prepare(_ request: RunRequest) throws -> PreparedRun {
        let (model, graph) = try request.elaborateTraining()
        let workload = request.workload
        let plan = try EdgeMapper.plan(graph: graph, hardware: model, workload: workload)
        return PreparedRun { recordTimeline in
            let (result, step) = try request.simulateMultiUnit(plan, recordTimeline: recordTimeline)
            var report = step
            report.placement = plan.ops.map { ($0.name, $0.unit ?? "") }
            if let power = plan.schedule?.power {
                report.powerBudgetWatts = power.budgetWatts
                let period = plan.hardware.clock.periodPicoseconds
                report.operatingPoints = result.operatingPoints.map { c in (c.start / period, power.points[c.point].hertz, c.scale) }
            }
            if workload.phase == .training { request.addTraining(to: &report, plan: plan, result: result, phase: "training") }
            report.modelNotes = Report.edgeNotes + [Report.energyNote]
            if let h = plan.hostLink, let link = plan.hardware.hostLink {
                let busy = result.units.first { $0.name == link.name }.map { Double($0.busyCycles) / plan.hardware.clock.hertz } ?? 0
                report.hostLink = Report.HostLinkFigures(
                    link: h.link, bytesPerSecond: link.bandwidth.bytesPerSecond, capacityBytes: h.capacityBytes, residentBytes: h.residentBytes, streamedBytes: h.streamedBytes,
                    residentLayers: h.residentOps, streamedLayers: h.streamedOps, busySeconds: busy)
                report.modelNotes.append(Report.hostLinkNote)
            }
            return RunOutput(graph: graph, plan: plan, result: result, report: report, views: AcceleratorViews(graph: graph, plan: plan, result: result, energy: report.energy))
        }
    }

    public func hardwarePicture(_ spec: HardwareSpec) throws -> DOTDocument { acceleratorPicture(spec) }
}
