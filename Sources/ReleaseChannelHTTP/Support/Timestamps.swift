import Foundation

/// RFC 3339 UTC formatting for health and metrics (second precision, like the db's own timestamps).
enum Timestamps {
    static func rfc3339(_ secondsSince1970: Double) -> String {
        Date(timeIntervalSince1970: secondsSince1970).formatted(.iso8601)
    }
}
