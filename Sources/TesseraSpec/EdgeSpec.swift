import TesseraCore

/// One DVFS operating point of an edge SoC: a clock frequency and the supply voltage it needs.
public struct OperatingPoint: Sendable, Hashable {
    public var frequency: Frequency
    /// Volts.
    public var voltage: Double
    public var location: SourceLocation
    public init(frequency: Frequency, voltage: Double, location: SourceLocation) {
        self.frequency = frequency
        self.voltage = voltage
        self.location = location
    }
}

/// What an `edge-soc` adds to a hardware file: operating points, a power budget and operator
/// placement.
///
/// ```yaml
/// operating_points:                 # fastest first; the energy table is taken at the first one's voltage
///   - {frequency: 480 MHz, voltage: 0.85 V}
///   - {frequency: 240 MHz, voltage: 0.70 V}
/// operating_point: 480 MHz          # where the run starts (default: the first)
/// power: {static: 0.3 W, budget: 2 W, window: 100 us}
/// placement: {add: cpu, classifier: cpu}   # by op name or layer name → a compute unit
/// ```
public struct EdgeSpec: Sendable, Hashable {
    public var operatingPoints: [OperatingPoint]
    /// Index into `operatingPoints` of the point the run starts at.
    public var initialPoint: Int
    /// Chip static power outside the listed components, watts.
    public var staticPower: Double
    /// Power budget, watts; `nil` for none.
    public var budget: Double?
    public var budgetLocation: SourceLocation?
    /// Window of the running average the governor compares with the budget, seconds.
    public var window: Double
    /// Op or layer name → compute unit name, with where each was written.
    public var placement: [(key: String, unit: String, location: SourceLocation)]

    public init(
        operatingPoints: [OperatingPoint], initialPoint: Int = 0, staticPower: Double = 0, budget: Double? = nil, budgetLocation: SourceLocation? = nil,
        window: Double = 100e-6, placement: [(key: String, unit: String, location: SourceLocation)] = []
    ) {
        self.operatingPoints = operatingPoints
        self.initialPoint = initialPoint
        self.staticPower = staticPower
        self.budget = budget
        self.budgetLocation = budgetLocation
        self.window = window
        self.placement = placement
    }

    public static func == (a: EdgeSpec, b: EdgeSpec) -> Bool {
        a.operatingPoints == b.operatingPoints && a.initialPoint == b.initialPoint && a.staticPower == b.staticPower && a.budget == b.budget
            && a.window == b.window && a.placement.map(\.key) == b.placement.map(\.key) && a.placement.map(\.unit) == b.placement.map(\.unit)
    }

    public func hash(into h: inout Hasher) {
        h.combine(operatingPoints)
        h.combine(initialPoint)
        h.combine(staticPower)
        h.combine(budget)
        h.combine(window)
        for p in placement {
            h.combine(p.key)
            h.combine(p.unit)
        }
    }

    /// Reads the edge sections of a hardware file (the reader has them unconsumed).
    static func read(
        points pointsNode: SpecNode?, start: SpecNode?, power: SpecNode?, placement placementNode: SpecNode?, clock: Frequency, at location: SourceLocation,
        computeNames: [String], bag: inout DiagnosticBag
    ) -> EdgeSpec {
        var points: [OperatingPoint] = []
        if let pointsNode {
            if let items = pointsNode.items, !items.isEmpty {
                for item in items {
                    guard var r = MappingReader(item, what: "an operating point", bag: &bag) else { continue }
                    let f = r.required("frequency", expected: QuantityDimension.frequency.example, bag: &bag).flatMap {
                        Scalar.quantity($0, .frequency, what: "'frequency'", bag: &bag)
                    }
                    let v = r.required("voltage", expected: QuantityDimension.voltage.example, bag: &bag).flatMap {
                        Scalar.quantity($0, .voltage, what: "'voltage'", bag: &bag)
                    }
                    r.finish(bag: &bag)
                    if case .number(let hz)? = f, case .number(let volts)? = v {
                        if let last = points.last, !(hz < last.frequency.hertz && volts <= last.voltage) {
                            bag.error(
                                item.location, "operating points must be listed fastest first, each at a lower frequency and no higher voltage than the one before",
                                expected: "below \(formatDecimal(last.frequency.hertz / 1e6)) MHz at ≤ \(formatDecimal(last.voltage)) V",
                                found: "\(formatDecimal(hz / 1e6)) MHz at \(formatDecimal(volts)) V")
                        }
                        points.append(OperatingPoint(frequency: Frequency(hertz: hz), voltage: volts, location: item.location))
                    }
                }
                if let first = points.first, abs(first.frequency.hertz - clock.hertz) > 1e-6 * clock.hertz {
                    bag.error(
                        first.location, "the first (fastest) operating point must run at the hardware's 'clock'", expected: "\(formatDecimal(clock.hertz / 1e6)) MHz",
                        found: "\(formatDecimal(first.frequency.hertz / 1e6)) MHz")
                }
            } else {
                bag.error(pointsNode.location, "'operating_points' must be a non-empty list", expected: "'- {frequency: …, voltage: …}' entries", found: pointsNode.kindDescription)
            }
        }
        if points.isEmpty { points = [OperatingPoint(frequency: clock, voltage: 1, location: location)] }
        var initial = 0
        if let start {
            if case .number(let hz)? = Scalar.quantity(start, .frequency, what: "'operating_point'", bag: &bag) {
                if let i = points.firstIndex(where: { abs($0.frequency.hertz - hz) <= 1e-6 * hz }) {
                    initial = i
                } else {
                    bag.error(
                        start.location, "'operating_point' is not in the table of operating points",
                        expected: "one of " + points.map { "\(formatDecimal($0.frequency.hertz / 1e6)) MHz" }.joined(separator: ", "),
                        found: "\(formatDecimal(hz / 1e6)) MHz")
                }
            }
        }
        var staticPower = 0.0
        var budget: Double?
        var budgetLocation: SourceLocation?
        var window = 100e-6
        if let power, var r = MappingReader(power, what: "'power'", bag: &bag) {
            if let s = r.optional("static"), case .number(let w)? = Scalar.quantity(s, .power, what: "'power.static'", allowZero: true, bag: &bag) { staticPower = w }
            if let b = r.optional("budget"), case .number(let w)? = Scalar.quantity(b, .power, what: "'power.budget'", bag: &bag) {
                budget = w
                budgetLocation = b.location
            }
            if let w = r.optional("window"), case .number(let s)? = Scalar.quantity(w, .time, what: "'power.window'", bag: &bag) { window = s }
            r.finish(bag: &bag)
        }
        var placement: [(String, String, SourceLocation)] = []
        if let placementNode {
            if let entries = placementNode.entries {
                for e in entries {
                    guard let unit = e.value.scalar, computeNames.contains(unit) else {
                        bag.error(
                            e.value.location, "'placement.\(e.key)' names no compute unit of this hardware", expected: "one of " + computeNames.map { "'\($0)'" }.joined(separator: ", "),
                            found: e.value.kindDescription, hint: closestMatch(to: e.value.scalar ?? "", in: computeNames).map { "did you mean '\($0)'?" })
                        continue
                    }
                    placement.append((e.key, unit, e.keyLocation))
                }
            } else {
                bag.error(placementNode.location, "'placement' must be a mapping", expected: "'op or layer name: unit' lines", found: placementNode.kindDescription)
            }
        }
        return EdgeSpec(operatingPoints: points, initialPoint: initial, staticPower: staticPower, budget: budget, budgetLocation: budgetLocation, window: window, placement: placement)
    }
}
