import CLDNS
import Foundation
import Net

/// Reads a zone file with ldns (RFC 1035 §5 master files with $ORIGIN, $TTL, parentheses, every record
/// type ldns knows) and turns it into an `ImportedZone`: each record as ldns prints it, checked by our own
/// zone-line parser so that what is stored is what the responder will serve.
public enum ZoneFileImport {
    public enum Failure: Error, CustomStringConvertible {
        case unreadable(String)
        case ldns(String, line: Int)
        case noSOA
        case record(String, String)

        public var description: String {
            switch self {
            case .unreadable(let why): return why
            case .ldns(let why, let line): return "line \(line): \(why)"
            case .noSOA: return "the zone has no SOA record"
            case .record(let line, let why): return "record '\(line)' cannot be served: \(why)"
            }
        }
    }

    /// Parses `path`; `origin` is used for relative names when the file has no $ORIGIN.
    public static func read(path: String, origin: String? = nil) throws(Failure) -> ImportedZone {
        guard let file = fopen(path, "r") else { throw .unreadable("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { fclose(file) }
        var zone: UnsafeMutablePointer<ldns_zone>?
        var line: Int32 = 0
        let originRDF = origin.flatMap { ldns_dname_new_frm_str($0) }
        defer { if let originRDF { ldns_rdf_deep_free(originRDF) } }
        let status = ldns_zone_new_frm_fp_l(&zone, file, originRDF, 3600, LDNS_RR_CLASS_IN, &line)
        guard status == LDNS_STATUS_OK, let zone else {
            throw .ldns(String(cString: ldns_get_errorstr_by_id(status)), line: Int(line))
        }
        defer { ldns_zone_deep_free(zone) }
        guard let soa = ldns_zone_soa(zone) else { throw .noSOA }
        var lines = [text(soa)]
        if let records = ldns_zone_rrs(zone) {
            for index in 0..<ldns_rr_list_rr_count(records) { lines.append(text(ldns_rr_list_rr(records, index))) }
        }
        var apex = ""
        for (index, line) in lines.enumerated() {
            do {
                let record = try DNSResourceRecord(zoneLine: line)
                if index == 0 { apex = record.name.lowercased().description }
            } catch {
                throw .record(line, "\(error)")
            }
        }
        return ImportedZone(origin: apex, lines: lines)
    }

    private static func text(_ record: UnsafeMutablePointer<ldns_rr>?) -> String {
        guard let record, let text = ldns_rr2str(record) else { return "" }
        defer { free(text) }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
