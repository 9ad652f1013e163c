/// How a query is answered: the prefilter's candidates re-ranked by SCAN (the default), SCAN over
/// every image, or the prefilter alone.
public enum SearchMode: String, CaseIterable, Sendable, Codable {
    case twoStage = "two-stage"
    case exact
    case prefilter
}
