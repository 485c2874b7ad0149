import Testing
@testable import TesseraOutput

@Suite struct ServingDistributionTests {
    @Test func quantilesAreNearestRankInIntegers() {
        let values = (1...7).map(Double.init).reversed()
        let d = Report.Serving.Distribution(Array(values))
        #expect(d.quantiles.count == 101)
        #expect(d.quantiles[0] == 1 && d.quantiles[100] == 7)
        // The ⌈k·n/100⌉-th smallest: k = 50 → ⌈3.5⌉ = 4th; k = 14 → ⌈0.98⌉ = 1st; k = 15 → ⌈1.05⌉ = 2nd.
        #expect(d.quantiles[50] == 4 && d.quantiles[14] == 1 && d.quantiles[15] == 2)
        #expect(d.quantiles[50] == d.p50 && d.quantiles[90] == d.p90 && d.quantiles[99] == d.p99)
        #expect(zip(d.quantiles, d.quantiles.dropFirst()).allSatisfy { $0 <= $1 })
        // k·n/100 exact where k/100 is not: n = 100, k = 7 is the 7th, not the 8th.
        let hundred = Report.Serving.Distribution((1...100).map(Double.init))
        #expect(hundred.quantiles[7] == 7 && hundred.quantiles[29] == 29)
        #expect(Report.Serving.Distribution([]).quantiles.isEmpty)
    }
}
