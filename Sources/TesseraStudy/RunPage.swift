import TesseraCore
import TesseraFamilies
import TesseraOutput
import TesseraSpec

/// The HTML page of one run (`simulate --format html`, `tessera report`): its JSON report with the
/// schedule and hardware pictures the run can draw. A picture that cannot be drawn (a run with no
/// timeline, a renderer failure) is left out with a note on the page, never failing the report.
public enum RunPage {
    /// The pictures of `output`: the schedule of the whole run, then the hardware.
    public static func pictures(of output: Pipeline.Output, pipeline: Pipeline) -> (pictures: [HTMLReport.Picture], notes: [String]) {
        var pictures: [HTMLReport.Picture] = []
        var notes: [String] = []
        do {
            let doc = try output.views.schedule(from: nil, to: nil)
            pictures.append(HTMLReport.Picture(title: "Schedule", svg: try doc.render(format: "svg"), notes: doc.notes))
        } catch {
            notes.append("no schedule picture: \(error)")
        }
        if let hw = hardwarePicture(pipeline.hardware) { pictures.append(hw) } else { notes.append("no hardware picture for this run") }
        return (pictures, notes)
    }

    /// The picture of a hardware file, or nil where it cannot be drawn.
    public static func hardwarePicture(_ spec: HardwareSpec) -> HTMLReport.Picture? {
        guard let doc = try? FamilyTable.family(of: spec).hardwarePicture(spec), let svg = try? doc.render(format: "svg") else { return nil }
        return HTMLReport.Picture(title: "Hardware", svg: svg, notes: doc.notes)
    }

    /// The page for a report's JSON text and the pictures drawn for it.
    public static func html(json: String, path: String, pictures: [HTMLReport.Picture], notes: [String], generator: String) throws(InputError) -> String {
        let value = try JSONParser.parse(Array(json.utf8), path: path)
        return HTMLReport(report: value, pictures: pictures, picturesNote: notes.isEmpty ? nil : notes.joined(separator: "; "), generator: generator).page()
    }
}
