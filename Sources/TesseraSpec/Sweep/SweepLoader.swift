import Foundation
import TesseraCore

/// Parses, validates and builds a `SweepSpec` from a sweep file (`sweeps/*.yaml`).
///
/// ```yaml
/// tessera: 1
/// name: array-design-space
/// hardware: ../configs/array/scalesim-32x32-os.yaml   # relative to this file
/// workload: ../traces/resnet50-b1.yaml
/// axes:
///   compute.array.rows: [16, 32, 64]                  # a list of values
///   memory.dram.bandwidth: {from: 12.8 GB/s, to: 76.8 GB/s, steps: 6}   # a range (scale: log too)
///   workload.batch: [1, 8]                            # 'hardware.' / 'workload.' pick the file
/// zip: [compute.array.rows, compute.array.cols]       # axes that move together (or a list of groups)
/// objectives: [total_cycles, seconds, utilization]
/// pareto: [seconds, pe_count]                          # default: every objective
/// on_invalid: skip                                     # or fail (the default)
/// plots: [{name: cycles, x: rows, y: total_cycles, color: bandwidth, kind: line}]
/// ```
///
/// A path without a `hardware.` or `workload.` prefix is looked up in both base files and must be
/// found in exactly one; a key the base leaves out (a default) may be set when the loader of its
/// file knows it. Every problem is reported at once, each at its place in the sweep file.
public struct SweepLoader: Sendable {
    public var hardwareLoader: HardwareLoader
    /// The objective names results can hold, in the order `tessera sweep` lists them.
    public var objectives: [String]
    /// Objectives this version names but cannot report, with the reason.
    public var unavailableObjectives: [String: String]

    public init(hardwareLoader: HardwareLoader, objectives: [String], unavailableObjectives: [String: String] = [:]) {
        self.hardwareLoader = hardwareLoader
        self.objectives = objectives
        self.unavailableObjectives = unavailableObjectives
    }

    static let keys = ["tessera", "name", "description", "hardware", "workload", "axes", "zip", "objectives", "pareto", "on_invalid", "plots"]

    public func load(path: String) throws(InputError) -> SweepSpec {
        try build(try YAMLReader.load(path: path), file: path)
    }

    public func parse(_ text: String, file: String) throws(InputError) -> SweepSpec {
        try build(try YAMLReader.parse(text, file: file), file: file)
    }

    func build(_ node: SpecNode, file: String) throws(InputError) -> SweepSpec {
        var bag = DiagnosticBag()
        guard var r = MappingReader(node, what: "a sweep file", bag: &bag) else { throw InputError(bag.diagnostics) }
        Header.check(&r, bag: &bag)
        _ = r.optional("description")
        let name = r.required("name", expected: "a name", bag: &bag).flatMap { Scalar.fileName($0, what: "'name'", bag: &bag) }
        let hardwareNode = r.required("hardware", expected: "the base hardware file, relative to this file", bag: &bag)
        let workloadNode = r.required("workload", expected: "the base workload file, relative to this file", bag: &bag)
        let axesNode = r.required("axes", expected: "a mapping from field paths to lists of values or ranges", bag: &bag)
        let zipNode = r.optional("zip")
        let objectivesNode = r.required("objectives", expected: "a list such as [total_cycles, seconds, utilization]", bag: &bag)
        let paretoNode = r.optional("pareto")
        let onInvalidNode = r.optional("on_invalid")
        let plotsNode = r.optional("plots")
        r.finish(bag: &bag)

        var onInvalid = OnInvalid.fail
        if let n = onInvalidNode {
            if let v = n.scalar.flatMap(OnInvalid.init(rawValue:)) {
                onInvalid = v
            } else {
                bag.error(n.location, "unknown 'on_invalid' value", expected: "'skip' or 'fail'", found: n.kindDescription)
            }
        }

        // The base files, checked on their own first: a sweep over a broken base is an error there.
        let directory = Extends.directory(of: file)
        var bases: [SweepTarget: (path: String, tree: SpecNode)] = [:]
        for (target, n) in [(SweepTarget.hardware, hardwareNode), (.workload, workloadNode)] {
            guard let n, let rel = Scalar.string(n, what: "'\(target.rawValue)'", bag: &bag) else { continue }
            let path = Extends.joinPath(directory, rel)
            do {
                let tree = try Extends.resolve(try YAMLReader.load(path: path, referencedFrom: n.location), file: path)
                switch target {
                case .hardware: _ = try hardwareLoader.build(tree, file: path)
                case .workload: _ = try WorkloadLoader.build(tree, file: path)
                }
                bases[target] = (path, tree)
            } catch {
                bag.append(contentsOf: error.diagnostics)
                if error.diagnostics.contains(where: { $0.location?.file != file }) {
                    bag.error(n.location, "the base \(target.rawValue) file '\(rel)' is not valid", expected: "a file that 'tessera validate' accepts")
                }
            }
        }

        let axes = readAxes(axesNode, bases: bases, bag: &bag)
        let dimensions = readZip(zipNode, axes: axes, bag: &bag)
        checkRepeats(axes: axes, dimensions: dimensions, bag: &bag)
        let objectives = readObjectives(objectivesNode, bag: &bag)
        var pareto = objectives
        if let paretoNode { pareto = readPareto(paretoNode, objectives: objectives, bag: &bag) }
        let columns = ["point"] + axes.map(\.path) + objectives.map(\.name)
        let plots = readPlots(plotsNode, columns: columns, bag: &bag)

        var total = 1
        for d in dimensions {
            let (p, overflow) = total.multipliedReportingOverflow(by: max(1, axes[d[0]].values.count))
            total = overflow ? Int.max : p
        }
        if total > SweepSpec.maxPoints {
            bag.error(
                axesNode?.location, "the sweep has too many points", expected: "at most \(SweepSpec.maxPoints) points",
                found: total == Int.max ? "more than \(Int.max)" : "\(total)")
        }
        try bag.throwIfErrors()
        guard let hw = bases[.hardware], let wl = bases[.workload] else { throw InputError(bag.diagnostics) }
        return SweepSpec(
            name: name ?? "", file: file, hardwarePath: hw.path, workloadPath: wl.path, hardware: hw.tree, workload: wl.tree, axes: axes,
            dimensions: dimensions, objectives: objectives, pareto: pareto, onInvalid: onInvalid, plots: plots)
    }

    // MARK: Axes

    private func readAxes(_ node: SpecNode?, bases: [SweepTarget: (path: String, tree: SpecNode)], bag: inout DiagnosticBag) -> [SweepAxis] {
        guard let node else { return [] }
        guard let entries = node.entries else {
            bag.error(
                node.location, "'axes' must be a mapping", expected: "'field.path: [values]' lines, such as 'compute.array.rows: [16, 32]'",
                found: node.kindDescription)
            return []
        }
        if entries.isEmpty {
            bag.error(node.location, "'axes' is empty", expected: "at least one axis", found: "no axes")
        }
        var axes: [SweepAxis] = []
        var fields: [String: SweepAxis] = [:]
        for e in entries {
            let values: [SpecNode]
            switch e.value.value {
            case .sequence(let items):
                if items.isEmpty {
                    bag.error(e.value.location, "axis '\(e.key)' is empty", expected: "at least one value", found: "an empty list")
                }
                // Repeated values are checked once the zip groups are known: a zipped axis may
                // repeat a value (tp 8 with pp 1 and pp 2), a combination may not.
                values = items
            case .mapping:
                values = SweepRange.values(e.value, axis: e.key, bag: &bag)
            case .scalar:
                bag.error(
                    e.value.location, "axis '\(e.key)' must be a list of values or a range", expected: "[v1, v2, …] or {from: …, to: …, steps: …}",
                    found: e.value.kindDescription)
                values = []
            }
            guard let resolved = resolve(e.key, at: e.keyLocation, probe: values.first, bases: bases, bag: &bag) else { continue }
            let axis = SweepAxis(path: e.key, location: e.keyLocation, target: resolved.target, steps: resolved.steps, addedKey: resolved.added, values: values)
            let field = "\(resolved.target.rawValue):\(resolved.steps):\(resolved.added ?? "")"
            if !resolved.steps.isEmpty || resolved.added != nil, let other = fields[field] {
                bag.error(
                    e.keyLocation, "axes '\(other.path)' and '\(e.key)' set the same field", expected: "one axis per field",
                    found: "'\(e.key)' a second time", hint: "'\(other.path)' is at \(other.location)")
                continue
            }
            fields[field] = axis
            axes.append(axis)
        }
        return axes
    }

    /// Finds which base file a path goes into and the steps to its field; every failure is an
    /// "unknown field path" error at the axis key.
    private func resolve(
        _ text: String, at location: SourceLocation, probe: SpecNode?, bases: [SweepTarget: (path: String, tree: SpecNode)], bag: inout DiagnosticBag
    ) -> (target: SweepTarget, steps: [FieldPath.Step], added: String?)? {
        let all = FieldPath(text)
        if all.segments.contains(where: \.isEmpty) {
            bag.error(
                location, "malformed field path '\(text)'", expected: "names joined by single dots, such as 'compute.array.rows'", found: "'\(text)'")
            return nil
        }
        var explicit: SweepTarget?
        var path = all
        if all.segments.count > 1, let t = SweepTarget(rawValue: all.segments[0]) {
            explicit = t
            path = FieldPath(segments: Array(all.segments.dropFirst()))
        }
        if path.segments.first == "tessera" || path.segments.first == "extends" {
            bag.error(location, "field path '\(text)' cannot be swept", expected: "a field of the hardware or the workload", found: "'\(path.segments[0])'")
            return nil
        }
        let targets: [SweepTarget] = explicit.map { [$0] } ?? [.hardware, .workload]
        let candidates = targets.compactMap { t in bases[t].map { (t, $0.tree, path.resolve(in: $0.tree)) } }
        // A path not found while a base file it may belong to could not be read (already reported)
        // stays unresolved, without a second error.
        let unread = targets.contains { bases[$0] == nil }
        let placeholder: (target: SweepTarget, steps: [FieldPath.Step], added: String?) = (explicit ?? .hardware, [], nil)
        // When a base file could not be read (already reported), the axis stays, unresolved, so that
        // 'zip' and 'plots' are still checked against it.
        guard !candidates.isEmpty else { return placeholder }

        let existing = candidates.compactMap { c -> (SweepTarget, [FieldPath.Step])? in
            if case .exists(let s) = c.2 { return (c.0, s) }
            return nil
        }
        if existing.count == 1 { return (existing[0].0, existing[0].1, nil) }
        if existing.count > 1 {
            bag.error(
                location, "field path '\(text)' is in both the hardware and the workload", expected: "'hardware.\(text)' or 'workload.\(text)'",
                found: "'\(text)'")
            return nil
        }
        // A key the base leaves out: the loader of its file decides whether it knows the key.
        var accepted: [(SweepTarget, [FieldPath.Step], String)] = []
        var refusals: [Diagnostic] = []
        for (target, tree, resolution) in candidates {
            guard case .addable(let steps, let key) = resolution else { continue }
            guard let probe else {
                accepted.append((target, steps, key))
                continue
            }
            let trial = tree.replacing(steps[...], with: probe, addKey: key, keyLocation: location)
            let problems = diagnostics(building: trial, target: target, file: bases[target]?.path ?? "").filter { $0.location == location }
            if problems.isEmpty { accepted.append((target, steps, key)) } else { refusals += problems }
        }
        if accepted.count == 1 { return (accepted[0].0, accepted[0].1, accepted[0].2) }
        if accepted.count > 1 {
            bag.error(
                location, "field path '\(text)' can be set in both the hardware and the workload", expected: "'hardware.\(text)' or 'workload.\(text)'",
                found: "'\(text)'")
            return nil
        }
        if unread { return placeholder }
        if let refusal = refusals.first(where: { $0.hint != nil }) ?? refusals.first {
            bag.error(location, "unknown field path '\(text)': \(refusal.message)", expected: refusal.expected, found: refusal.found, hint: refusal.hint)
            return nil
        }
        // Stopped in every file: report where it got furthest.
        let deepest = candidates.max { $0.2.depth < $1.2.depth }
        if let deepest, case .stopped(_, let problem, let expected, let found, let hint) = deepest.2 {
            let scope = explicit == nil && candidates.count > 1 ? " (in neither the hardware nor the workload)" : " in the \(deepest.0.rawValue)"
            bag.error(location, "unknown field path '\(text)'\(scope): \(problem)", expected: expected, found: found, hint: hint)
        }
        return nil
    }

    private func diagnostics(building tree: SpecNode, target: SweepTarget, file: String) -> [Diagnostic] {
        do {
            switch target {
            case .hardware: _ = try hardwareLoader.build(tree, file: file)
            case .workload: _ = try WorkloadLoader.build(tree, file: file)
            }
            return []
        } catch {
            return error.diagnostics
        }
    }

    // MARK: Zip

    private func readZip(_ node: SpecNode?, axes: [SweepAxis], bag: inout DiagnosticBag) -> [[Int]] {
        var dimensions = axes.indices.map { [$0] }
        guard let node else { return dimensions }
        guard let items = node.items, !items.isEmpty else {
            bag.error(
                node.location, "'zip' must list axes that move together", expected: "[axis, axis, …] or a list of such groups",
                found: node.kindDescription == "a list" ? "an empty list" : node.kindDescription)
            return dimensions
        }
        let groups: [SpecNode] = items.allSatisfy { $0.items != nil } ? items : [node]
        var grouped: [Int: SourceLocation] = [:]
        var zipped: [[Int]] = []
        for group in groups {
            guard let names = group.items, !names.isEmpty else { continue }
            var members: [Int] = []
            for n in names {
                guard let s = n.scalar, let i = axes.firstIndex(where: { $0.path == s }) else {
                    let s = n.scalar ?? ""
                    bag.error(
                        n.location, "'zip' names no axis '\(s)'",
                        expected: axes.isEmpty ? "an axis under 'axes'" : "one of " + axes.map { "'\($0.path)'" }.joined(separator: ", "),
                        found: n.kindDescription, hint: closestMatch(to: s, in: axes.map(\.path)).map { "did you mean '\($0)'?" })
                    continue
                }
                if let first = grouped[i] {
                    bag.error(
                        n.location, "axis '\(axes[i].path)' is zipped twice", expected: "each axis in one group at most", found: "'\(axes[i].path)' again",
                        hint: "first zipped at \(first)")
                    continue
                }
                grouped[i] = n.location
                members.append(i)
            }
            if names.count < 2 {
                bag.error(group.location, "a zip group needs at least two axes", expected: "[axis, axis, …]", found: "\(names.count) axis")
            }
            let sizes = members.map { axes[$0].values.count }
            if Set(sizes).count > 1 {
                bag.error(
                    group.location, "zipped axes have different numbers of values", expected: "the same number of values in each",
                    found: zip(members, sizes).map { "'\(axes[$0.0].path)': \($0.1)" }.joined(separator: ", "))
            }
            if members.count >= 2 { zipped.append(members) }
        }
        // A zip group takes the place of its first member among the axes (ungrouped when the
        // group itself is in error, so its axes are still checked one by one).
        dimensions = []
        for i in axes.indices {
            if let g = zipped.first(where: { $0.contains(i) }) {
                if g.min() == i { dimensions.append(g.sorted()) }
            } else {
                dimensions.append([i])
            }
        }
        return dimensions
    }

    /// Each point must differ: an axis of its own may not repeat a value, and a zip group may not
    /// repeat a combination (its axes may each repeat values, as a layout sweep's tp, pp, dp do).
    func checkRepeats(axes: [SweepAxis], dimensions: [[Int]], bag: inout DiagnosticBag) {
        for d in dimensions {
            guard let count = d.first.map({ axes[$0].values.count }), d.allSatisfy({ axes[$0].values.count == count }) else { continue }
            var seen: [[String]: SourceLocation] = [:]
            for v in 0..<count {
                let combination = d.map { axes[$0].values[v].canonicalText }
                let at = axes[d[d.count - 1]].values[v].location
                if let first = seen[combination] {
                    let shown = d.map { axes[$0].values[v].flowText }
                    if d.count == 1 {
                        bag.error(at, "axis '\(axes[d[0]].path)' repeats the value \(shown[0])", expected: "each value once", found: "\(shown[0]) a second time", hint: "first given at \(first)")
                    } else {
                        let names = d.map { "'\(axes[$0].path)'" }.joined(separator: ", ")
                        bag.error(
                            at, "zipped axes \(names) repeat the combination (\(shown.joined(separator: ", ")))", expected: "each combination once",
                            found: "value \(v + 1) equal to an earlier one", hint: "first given at \(first)")
                    }
                }
                seen[combination] = seen[combination] ?? at
            }
        }
    }

    // MARK: Objectives

    private func readObjectives(_ node: SpecNode?, bag: inout DiagnosticBag) -> [LocatedName] {
        guard let node else { return [] }
        let listed = names(node, what: "'objectives'", allowed: objectives, bag: &bag)
        return listed.filter { n in
            guard let why = unavailableObjectives[n.name] else { return true }
            bag.error(n.location, "objective '\(n.name)' is not reported by this version: \(why)", expected: "one of " + available, found: "'\(n.name)'")
            return false
        }
    }

    private var available: String {
        objectives.filter { unavailableObjectives[$0] == nil }.map { "'\($0)'" }.joined(separator: ", ")
    }

    private func readPareto(_ node: SpecNode, objectives chosen: [LocatedName], bag: inout DiagnosticBag) -> [LocatedName] {
        names(node, what: "'pareto'", allowed: chosen.map(\.name), bag: &bag)
    }

    /// A non-empty list of distinct names from `allowed`.
    private func names(
        _ node: SpecNode, what: String, allowed: [String], bag: inout DiagnosticBag
    ) -> [LocatedName] {
        guard let items = node.items, !items.isEmpty else {
            bag.error(
                node.location, "\(what) must be a list of objectives", expected: "a list such as [total_cycles, utilization]",
                found: node.items == nil ? node.kindDescription : "an empty list")
            return []
        }
        var out: [LocatedName] = []
        for item in items {
            guard let s = item.scalar, !s.isEmpty else {
                bag.error(item.location, "\(what) must list names", expected: "an objective name", found: item.kindDescription)
                continue
            }
            let n = LocatedName(s, at: item.location)
            if unavailableObjectives[s] == nil, !allowed.contains(s) {
                bag.error(
                    item.location, "unknown objective '\(s)' in \(what)",
                    expected: "one of " + allowed.filter { unavailableObjectives[$0] == nil }.map { "'\($0)'" }.joined(separator: ", "),
                    found: "'\(s)'", hint: closestMatch(to: s, in: allowed).map { "did you mean '\($0)'?" })
                continue
            }
            if let first = out.first(where: { $0.name == s }) {
                bag.error(
                    item.location, "\(what) lists '\(s)' twice", expected: "each objective once", found: "'\(s)' again", hint: "first at \(first.location)")
                continue
            }
            out.append(n)
        }
        return out
    }

    // MARK: Plots

    private func readPlots(_ node: SpecNode?, columns: [String], bag: inout DiagnosticBag) -> [PlotRequest] {
        guard let node else { return [] }
        guard let items = node.items else {
            bag.error(node.location, "'plots' must be a list", expected: "a list of '{name: …, x: …, y: …}' entries", found: node.kindDescription)
            return []
        }
        var out: [PlotRequest] = []
        var names: [String: SourceLocation] = [:]
        for item in items {
            guard var r = MappingReader(item, what: "a plot", bag: &bag) else { continue }
            func column(_ key: String, required: Bool) -> String? {
                guard let n = required ? r.required(key, expected: "a column of the results", bag: &bag) : r.optional(key) else { return nil }
                guard let s = n.scalar, !s.isEmpty else {
                    bag.error(n.location, "plot '\(key)' must name a column", expected: "a column of the results", found: n.kindDescription)
                    return nil
                }
                switch ColumnMatch.resolve(s, in: columns) {
                case .success(let c): return c
                case .failure(let f):
                    bag.append(contentsOf: [ColumnMatch.diagnostic(f, name: s, what: "plot '\(key)'", columns: columns, at: n.location)])
                    return nil
                }
            }
            func flag(_ key: String) -> Bool {
                guard let n = r.optional(key) else { return false }
                switch n.scalar {
                case "true": return true
                case "false": return false
                default:
                    bag.error(n.location, "plot '\(key)' must be true or false", expected: "true or false", found: n.kindDescription)
                    return false
                }
            }
            let nameNode = r.required("name", expected: "a file name for the plot, such as 'cycles-vs-rows'", bag: &bag)
            var name: String?
            if let nameNode {
                if let s = nameNode.scalar, !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }), !s.hasPrefix(".") {
                    if let first = names[s] {
                        bag.error(
                            nameNode.location, "duplicate plot name '\(s)'", expected: "unique plot names", found: "'\(s)' again",
                            hint: "first used at \(first)")
                    }
                    names[s] = nameNode.location
                    name = s
                } else {
                    bag.error(
                        nameNode.location, "plot 'name' must be a plain file name", expected: "letters, digits, '-', '_' and '.'",
                        found: nameNode.kindDescription)
                }
            }
            let x = column("x", required: true)
            let y = column("y", required: true)
            let color = column("color", required: false)
            var kind = PlotRequest.Kind.line
            if let k = r.optional("kind") {
                if let v = k.scalar.flatMap(PlotRequest.Kind.init(rawValue:)) {
                    kind = v
                } else {
                    bag.error(k.location, "unknown plot kind", expected: "'line', 'scatter' or 'bar'", found: k.kindDescription)
                }
            }
            let pareto = flag("pareto")
            var maximize: [String] = []
            if let m = r.optional("maximize") {
                for n in m.items ?? [m] {
                    guard let s = n.scalar else {
                        bag.error(n.location, "plot 'maximize' must list columns", expected: "a column name", found: n.kindDescription)
                        continue
                    }
                    switch ColumnMatch.resolve(s, in: columns) {
                    case .success(let c): maximize.append(c)
                    case .failure(let f):
                        bag.append(contentsOf: [ColumnMatch.diagnostic(f, name: s, what: "plot 'maximize'", columns: columns, at: n.location)])
                    }
                }
            }
            var filters: [PlotRequest.Filter] = []
            if let w = r.optional("where") {
                if let entries = w.entries {
                    for e in entries {
                        switch ColumnMatch.resolve(e.key, in: columns) {
                        case .success(let c): filters.append(.init(column: c, value: e.value.flowText))
                        case .failure(let f):
                            bag.append(contentsOf: [ColumnMatch.diagnostic(f, name: e.key, what: "plot 'where'", columns: columns, at: e.keyLocation)])
                        }
                    }
                } else {
                    bag.error(w.location, "plot 'where' must be a mapping", expected: "'column: value' pairs", found: w.kindDescription)
                }
            }
            var aggregate: PlotRequest.Aggregate?
            if let a = r.optional("aggregate") {
                if let v = a.scalar.flatMap(PlotRequest.Aggregate.init(rawValue:)) {
                    aggregate = v
                } else {
                    bag.error(a.location, "unknown plot aggregate", expected: "'min', 'max' or 'mean'", found: a.kindDescription)
                }
            }
            let logX = flag("log_x")
            let logY = flag("log_y")
            let title = r.optional("title").flatMap { Scalar.string($0, what: "plot 'title'", bag: &bag) }
            var formats = ["svg"]
            if let f = r.optional("formats") {
                formats = []
                for n in f.items ?? [f] {
                    if let s = n.scalar, PlotRequest.formatsAllowed.contains(s) {
                        if !formats.contains(s) { formats.append(s) }
                    } else {
                        bag.error(n.location, "unknown plot format", expected: "'svg' or 'png'", found: n.kindDescription)
                    }
                }
            }
            r.finish(bag: &bag)
            guard let name, let x, let y else { continue }
            out.append(
                PlotRequest(
                    name: name, x: x, y: y, color: color, kind: kind, pareto: pareto, maximize: maximize, filters: filters, aggregate: aggregate,
                    logX: logX, logY: logY, title: title, formats: formats, location: item.location))
        }
        return out
    }
}

/// Builds the hardware and workload specs of sweep points through the normal loaders. The file no
/// axis varies is built once.
public struct SweepPointBuilder: Sendable {
    public var spec: SweepSpec
    public var hardwareLoader: HardwareLoader
    private var fixedHardware: Result<HardwareSpec, InputError>?
    private var fixedWorkload: Result<WorkloadSpec, InputError>?

    public init(spec: SweepSpec, hardwareLoader: HardwareLoader) {
        self.spec = spec
        self.hardwareLoader = hardwareLoader
        if !spec.varies(.hardware) { fixedHardware = Self.hardware(spec.hardware, spec.hardwarePath, hardwareLoader) }
        if !spec.varies(.workload) { fixedWorkload = Self.workload(spec.workload, spec.workloadPath) }
    }

    /// Point `index`'s specs; every problem is located (at the sweep file for a value an axis set,
    /// at the base files otherwise).
    public func specs(point index: Int) -> Result<(HardwareSpec, WorkloadSpec), InputError> {
        let needsTrees = fixedHardware == nil || fixedWorkload == nil
        let trees = needsTrees ? spec.trees(point: index) : (hardware: spec.hardware, workload: spec.workload)
        let hw = fixedHardware ?? Self.hardware(trees.hardware, spec.hardwarePath, hardwareLoader)
        let wl = fixedWorkload ?? Self.workload(trees.workload, spec.workloadPath)
        switch (hw, wl) {
        case (.success(let h), .success(let w)): return .success((h, w))
        case (.failure(let a), .failure(let b)): return .failure(InputError(a.diagnostics + b.diagnostics))
        case (.failure(let e), _), (_, .failure(let e)): return .failure(e)
        }
    }

    private static func hardware(_ tree: SpecNode, _ file: String, _ loader: HardwareLoader) -> Result<HardwareSpec, InputError> {
        do { return .success(try loader.build(tree, file: file)) } catch { return .failure(error) }
    }

    private static func workload(_ tree: SpecNode, _ file: String) -> Result<WorkloadSpec, InputError> {
        do { return .success(try WorkloadLoader.build(tree, file: file)) } catch { return .failure(error) }
    }
}

extension SweepSpec {
    /// True when some axis sets a field of `target`.
    public func varies(_ target: SweepTarget) -> Bool { axes.contains { $0.target == target } }
}
