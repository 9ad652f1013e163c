import Foundation

/// The service's one JSON encoder and decoder configuration.
enum ServiceJSON {
    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return e
    }
    static var decoder: JSONDecoder { JSONDecoder() }
}
