import ArgumentParser
import Foundation
import TesseraCore
import TesseraModel
import TesseraFamilies
import TesseraOutput
import TesseraStudy
import TesseraSpec

/// `tessera render`: the hardware, the dataflow graph and the simulated schedule as pictures,
/// rendered in-process through libgvc.
struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw the hardware, the dataflow graph or the schedule as SVG, PNG, PDF or DOT.",
        discussion: """
            The format follows the extension of -o (.svg .png .pdf .dot) unless --format is given. \
            Pictures are laid out and rendered in-process by libgvc (no 'dot' program is run). DOT output \
            is the graph as built, for your own Graphviz: the schedule's nodes carry pinned positions, so \
            render it with 'neato -n2'.

            Examples:
              tessera render hardware configs/array/scalesim-32x32-os.yaml -o hw.svg
              tessera render graph configs/array/scalesim-32x32-os.yaml traces/resnet50-b1.yaml -o graph.svg
              tessera render graph configs/array/scalesim-32x32-os.yaml traces/resnet50-b1.yaml -o l1.pdf --layers conv1..layer1.2.add
              tessera render schedule configs/array/scalesim-32x32-os.yaml traces/resnet50-b1.yaml -o schedule.png
              tessera render schedule configs/array/scalesim-32x32-os.yaml traces/small-cnn.yaml -o s.svg --from 0 --to 20000
              tessera render schedule configs/array/scalesim-32x32-os.yaml traces/small-cnn.yaml -o s.svg --to 20us
            """,
        subcommands: [RenderHardware.self, RenderGraph.self, RenderSchedule.self])
}

/// The output options every picture takes.
struct PictureOutput: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp("File to write: .svg, .png, .pdf or .dot.", valueName: "file")) var output: String
    @Option(help: ArgumentHelp("Output format (svg, png, pdf, dot); default: from the file's extension.", valueName: "format")) var format: String?
    @Flag(help: "Print nothing but errors.") var quiet = false
    @Flag(help: "Overwrite the file even if Tessera did not write it.") var force = false
    @Flag(name: .customLong("allow-large"), help: "Graph and schedule: run even when the estimated work exceeds the budget.") var allowLarge = false

    /// The format: `--format`, else the output file's extension.
    func resolvedFormat() throws -> String {
        let f = (format ?? (output as NSString).pathExtension).lowercased()
        guard Graphviz.formats.contains(f) else {
            let found = format.map { "--format \($0)" } ?? "'\(output)'"
            throw fail(
                InputError(
                    Diagnostic(
                        at: nil, "cannot tell which picture format to write", expected: "an output file ending in .svg, .png, .pdf or .dot, or --format",
                        found: found)))
        }
        return f
    }

    /// Renders and writes the document atomically, then prints its notes and the file name.
    func write(_ document: DOTDocument) throws {
        let f = try resolvedFormat()
        do { try OutputGuard.check([output], force: force) } catch { throw fail(error) }
        let bytes: [UInt8]
        do {
            bytes = try document.render(format: f)
        } catch {
            throw failInternal("\(error)")
        }
        try writeOutputFile(bytes, to: output, force: force)
        if !quiet {
            for note in document.notes { print("note: \(note)") }
            print("wrote \(output)")
        }
    }
}

/// Writes a rendered file atomically, replacing only a file Tessera wrote (or any with `force`);
/// a missing folder, a file that is not Tessera's or a failed write is bad input (exit 2).
func writeOutputFile(_ bytes: [UInt8], to output: String, force: Bool) throws {
    let directory = (output as NSString).deletingLastPathComponent
    if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
        throw fail(InputError(Diagnostic(at: nil, "cannot write '\(output)': directory '\(directory)' does not exist")))
    }
    do {
        try OutputGuard.check([output], force: force)
    } catch {
        throw fail(error)
    }
    do {
        try OutputGuard.write(Data(bytes), to: output)
    } catch {
        throw fail(InputError(Diagnostic(at: nil, error.description)))
    }
}

/// Loads and runs the pipeline for a picture, mapping failures to exit statuses.
private func runPipeline(hardware: String, workload: String, flags: OptimizationFlags? = nil, allowLarge: Bool) throws -> Pipeline.Output {
    try exitingOnError {
        var pipeline = try Pipeline.load(hardwarePath: BundledFiles.resolve(hardware), workloadPath: BundledFiles.resolve(workload))
        if allowLarge { pipeline.workBudget = .unlimited }
        try flags?.apply(to: &pipeline)
        return try pipeline.run()
    }
}

struct RenderHardware: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hardware",
        abstract: "Draw the hardware: compute arrays, SRAM buffers and DRAM with their parameters and bandwidths.",
        discussion: """
            Examples:
              tessera render hardware configs/array/scalesim-32x32-os.yaml -o hw.svg
              tessera render hardware configs/array/tpu-128x128-ws.yaml -o hw.dot
            """)

    @Argument(help: "Hardware YAML file.") var hardware: String
    @OptionGroup var picture: PictureOutput

    func run() throws {
        _ = try picture.resolvedFormat()
        let spec: HardwareSpec
        do {
            spec = try KindTable.hardwareLoader.load(path: BundledFiles.resolve(hardware))
        } catch {
            throw fail(InputError(error.diagnostics))
        }
        let document = try exitingOnError { try FamilyTable.family(of: spec).hardwarePicture(spec) }
        try picture.write(document)
    }
}

struct RenderGraph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw the dataflow graph: operations colored by kind, tensor edges with bytes, a cluster per layer block.",
        discussion: """
            A layer block is a layer's name up to its last '.' (layer1.2.conv1 is in layer1.2). A graph of \
            more than 200 operations is drawn one node per block unless --collapse none is given.

            Examples:
              tessera render graph configs/array/scalesim-32x32-os.yaml traces/resnet50-b1.yaml -o graph.svg
              tessera render graph configs/array/scalesim-32x32-os.yaml traces/resnet50-b1.yaml -o g.svg --layers 3..10
              tessera render graph configs/array/scalesim-32x32-os.yaml traces/resnet50-b1.yaml -o g.svg --layers conv1..layer1.2.add
              tessera render graph configs/array/tpu-128x128-is.yaml traces/bert-base-s128-b1.yaml -o g.pdf --collapse layer
            """)

    @Argument(help: "Hardware YAML file.") var hardware: String
    @Argument(help: "Workload YAML file.") var workload: String
    @OptionGroup var picture: PictureOutput
    @Option(
        help: ArgumentHelp(
            "Layers to draw: A..B by index from 0 (both ends included) or by name, one layer, or an open end (..B, A..).",
            valueName: "range")) var layers: String?
    @Option(help: ArgumentHelp("'layer': one node per layer block; 'none': every operation; default: auto (collapse above 200 operations).", valueName: "mode"))
    var collapse: String?

    func run() throws {
        _ = try picture.resolvedFormat()
        let mode: GraphDOT.Options.Collapse
        switch collapse {
        case nil, "auto": mode = .auto
        case "layer", "block": mode = .layer
        case "none": mode = .none
        case .some(let other):
            throw fail(InputError(Diagnostic(at: nil, "unknown --collapse mode", expected: "layer, none or auto", found: "'\(other)'")))
        }
        let out = try runPipeline(hardware: hardware, workload: workload, allowLarge: picture.allowLarge)
        let document = try exitingOnError {
            try GraphDOT(try out.views.dataflowGraph(), title: out.report.workload, options: .init(layers: layers, collapse: mode)).build()
        }
        try picture.write(document)
    }
}

struct RenderSchedule: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Draw the simulated schedule: one lane per resource, time left to right, stalls in grey.",
        discussion: """
            Each box is a run of intervals of one layer and activity (compute, DRAM load, write-back, \
            memory-only traffic); gaps on the array lane are stalls (waiting for DRAM) or idle time \
            (a memory-only layer running). Hover a box in the SVG for its layer, cycles and bytes.
            A transformer training step on a GPU cluster draws one lane per class of GPUs (compute, \
            tensor/expert collectives, pipeline transfers, data-parallel collectives) and the busiest \
            links; a serving run one lane per instance (prefill and decode iterations, KV caches \
            arriving). --from and --to take a time with its unit (2ms, 3.1s, 150us), the same on \
            every family, or on clocked hardware a count of cycles (150000 or 150000cycles).

            Examples:
              tessera render schedule configs/array/scalesim-32x32-os.yaml traces/resnet50-b1.yaml -o schedule.svg
              tessera render schedule configs/array/scalesim-32x32-os.yaml traces/resnet50-b1.yaml -o head.png --to 500000
              tessera render schedule configs/gpu/dgx-h100-x1.yaml traces/llama3-8b-train-8.yaml -o step.svg
              tessera render schedule configs/gpu/dgx-h100-x128.yaml traces/gpt3-175b-train-1024.yaml -o w.png --from 3s --to 3.1s
            """)

    @Argument(help: "Hardware YAML file.") var hardware: String
    @Argument(help: "Workload YAML file.") var workload: String
    @OptionGroup var picture: PictureOutput
    @Option(help: ArgumentHelp("Start of the window to draw: a time (2ms, 3.1s, 150us) or cycles (150000, 150000cycles); default 0.", valueName: "time"))
    var from: String?
    @Option(help: ArgumentHelp("End of the window to draw, as --from (default: the end of the run).", valueName: "time")) var to: String?
    @OptionGroup var optimizationFlags: OptimizationFlags

    func run() throws {
        _ = try picture.resolvedFormat()
        let window = try exitingOnError {
            (try from.map { try TimeBound.parse($0, option: "--from") }, try to.map { try TimeBound.parse($0, option: "--to") })
        }
        let out = try runPipeline(hardware: hardware, workload: workload, flags: optimizationFlags, allowLarge: picture.allowLarge)
        let document = try exitingOnError { try out.views.schedule(from: window.0, to: window.1) }
        try picture.write(document)
    }
}
