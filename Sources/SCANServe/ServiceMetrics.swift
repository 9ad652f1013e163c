import Foundation
import Prometheus

/// The service's Prometheus metrics, emitted in the text format at `/metrics`.
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let queriesInFlight: Gauge
    let indexImages: Gauge
    let corruptImages: Gauge
    let corruptSkips: Counter

    /// Request latency buckets: a query costs a few ms on small indexes and tens at paper size.
    static let buckets: [Duration] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10].map { .nanoseconds(Int64($0 * 1e9)) }

    public init() {
        queriesInFlight = registry.makeGauge(descriptor: .init(namespace: "scan_serve", metricName: "queries_in_flight", unitName: "",
                                                               helpText: "Queries being answered now"))
        indexImages = registry.makeGauge(descriptor: .init(namespace: "scan_serve", metricName: "index_images", unitName: "",
                                                           helpText: "Images in the newest index snapshot read"))
        corruptImages = registry.makeGauge(descriptor: .init(namespace: "scan_serve", metricName: "corrupt_images", unitName: "",
                                                             helpText: "Distinct images skipped because a record of theirs is corrupt"))
        corruptSkips = registry.makeCounter(descriptor: .init(namespace: "scan_serve", metricName: "corrupt_skips", unitName: "total",
                                                              helpText: "Times an image was left out of an answer because a record of it is corrupt"))
    }

    func recordRequest(route: String, status: Int, seconds: Double) {
        registry.makeCounter(descriptor: .init(namespace: "scan_serve", metricName: "requests", unitName: "total",
                                               helpText: "Requests by route and status"),
                             labels: [("route", route), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: .init(namespace: "scan_serve", metricName: "request_duration", unitName: "seconds",
                                                         helpText: "Request latency by route"),
                                       labels: [("route", route)], buckets: Self.buckets)
            .record(.nanoseconds(Int64(seconds * 1e9)))
    }

    /// The exposition text.
    public func text() -> String { registry.emitToString() }
}
