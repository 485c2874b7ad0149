import Foundation
import Testing

@testable import TesseraOutput
import TesseraStudy
import TesseraFamilies
import TesseraTestSupport

@Suite struct ChromeTraceTests {
    static let workloads = ["traces/small-cnn.yaml", "traces/resnet50-b1.yaml"]

    private func trace(_ workload: String, hardware: String = "configs/array/scalesim-32x32-os.yaml") throws -> (Pipeline.Output, [String: Any]) {
        let out = try Pipeline.load(
            hardwarePath: packageRoot.appendingPathComponent(hardware).path, workloadPath: packageRoot.appendingPathComponent(workload).path
        ).run()
        let text = ChromeTrace(try out.views.timeline()).json()
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return (out, try #require(object))
    }

    @Test(arguments: workloads)
    func everyEventIsWellFormedAndEveryTrackNamed(workload: String) throws {
        let (out, top) = try trace(workload)
        #expect(top["displayTimeUnit"] as? String == "ns")
        let events = try #require(top["traceEvents"] as? [[String: Any]])
        #expect(!events.isEmpty)
        var named: [Int: String] = [:]
        var used: Set<Int> = []
        var processNamed = false
        var powerSamples = 0
        for e in events {
            let ph = try #require(e["ph"] as? String, "event without ph: \(e)")
            #expect(e["ts"] is NSNumber, "event without ts: \(e)")
            // The run is process 1; its counters (power, clock) are process 2.
            #expect(e["pid"] as? Int == (ph == "C" || (e["pid"] as? Int == 2 && ph == "M") ? 2 : 1))
            let tid = e["tid"] as? Int ?? 0
            switch ph {
            case "M":
                let args = try #require(e["args"] as? [String: Any])
                if e["name"] as? String == "thread_name" { named[tid] = args["name"] as? String }
                if e["name"] as? String == "process_name", (args["name"] as? String)?.contains(out.report.workload) == true { processNamed = true }
            case "X":
                let dur = try #require((e["dur"] as? NSNumber)?.doubleValue, "X event without dur: \(e)")
                let ts = try #require((e["ts"] as? NSNumber)?.doubleValue)
                #expect(dur >= 0)
                #expect(ts >= 0)
                let args = try #require(e["args"] as? [String: Any])
                if e["cat"] as? String != "block" {
                    #expect(args["phase"] as? String == "FF")
                    #expect(args["layer"] is String)
                    #expect(args["op"] is String)
                }
                used.insert(tid)
            case "C":
                // The power counter track: watts per energy window, never negative.
                #expect(e["name"] as? String == "power" || e["name"] as? String == "clock")
                let key = e["name"] as? String == "clock" ? "MHz" : "watts"
                let watts = try #require(((e["args"] as? [String: Any])?[key] as? NSNumber)?.doubleValue)
                #expect(watts >= 0)
                powerSamples += 1
            default:
                Issue.record("unexpected phase \(ph)")
            }
        }
        #expect(powerSamples >= 2)
        #expect(processNamed)
        // Slices on one track never overlap (trace viewers need them nested or apart).
        let byTrack = Dictionary(grouping: events.filter { $0["ph"] as? String == "X" }, by: { $0["tid"] as! Int })
        for (tid, slices) in byTrack {
            var end = -Double.infinity
            for e in slices.sorted(by: { ($0["ts"] as! NSNumber).doubleValue < ($1["ts"] as! NSNumber).doubleValue }) {
                let ts = (e["ts"] as! NSNumber).doubleValue
                #expect(ts >= end - 1e-9, "track \(named[tid] ?? "?"): \(e["name"] ?? "") starts at \(ts) before the previous slice ends at \(end)")
                end = ts + (e["dur"] as! NSNumber).doubleValue
            }
        }
        for tid in used { #expect(named[tid] != nil, "track \(tid) has no thread_name") }
        #expect(Set(named.values).isSuperset(of: ["layers", "array", "dram load", "dram write-back"]))
    }

    @Test func tracksAgreeWithTheReport() throws {
        let (out, top) = try trace("traces/resnet50-b1.yaml")
        let events = try #require(top["traceEvents"] as? [[String: Any]])
        let names = Dictionary(
            uniqueKeysWithValues: events.filter { $0["name"] as? String == "thread_name" }.map {
                ($0["tid"] as! Int, ($0["args"] as! [String: Any])["name"] as! String)
            })
        let x = events.filter { $0["ph"] as? String == "X" }
        func on(_ track: String) -> [[String: Any]] { x.filter { names[$0["tid"] as! Int] == track } }
        // One layer event per layer, carrying MACs and stall cycles that match the report.
        let layers = on("layers")
        #expect(layers.count == out.report.layers.count)
        let macs = layers.reduce(UInt64(0)) { $0 + (($1["args"] as! [String: Any])["macs"] as! NSNumber).uint64Value }
        #expect(macs == out.report.macs)
        let stalls = layers.reduce(UInt64(0)) { $0 + (($1["args"] as! [String: Any])["stall_cycles"] as! NSNumber).uint64Value }
        #expect(stalls == out.report.stallCycles)
        // Compute on the array adds up to its busy time; the gaps are stall or idle events.
        let array = on("array")
        let computeUs = array.filter { $0["cat"] as? String == "compute" }.reduce(0.0) { $0 + ($1["dur"] as! NSNumber).doubleValue }
        let busy = try #require(out.report.units.first { $0.name == "array" }).busyCycles ?? 0
        #expect(abs(computeUs * 1e6 / Double(out.plan!.hardware.clock.periodPicoseconds) - Double(busy)) < 1)
        let gaps = array.filter { $0["name"] as? String == "stall" || $0["name"] as? String == "idle" }
        #expect(!gaps.isEmpty)
        let gapUs = gaps.reduce(0.0) { $0 + ($1["dur"] as! NSNumber).doubleValue }
        #expect(abs(computeUs + gapUs - out.report.seconds * 1e6) < 1e-3, "compute and gaps cover the run")
        // DRAM events carry bytes.
        let dram = x.filter { names[$0["tid"] as! Int]?.hasPrefix("dram") == true }
        #expect(!dram.isEmpty)
        #expect(dram.allSatisfy { ($0["args"] as? [String: Any])?["bytes"] != nil })
    }

    @Test func repeatedRunsGiveIdenticalTraces() throws {
        let hw = packageRoot.appendingPathComponent("configs/array/scalesim-32x32-ws.yaml").path
        let wl = packageRoot.appendingPathComponent("traces/small-cnn.yaml").path
        let a = try Pipeline.load(hardwarePath: hw, workloadPath: wl).run()
        let b = try Pipeline.load(hardwarePath: hw, workloadPath: wl).run()
        #expect(try a.views.chromeTrace() == b.views.chromeTrace())
        #expect(try a.views.schedule(from: nil, to: nil).text == b.views.schedule(from: nil, to: nil).text)
    }
}
