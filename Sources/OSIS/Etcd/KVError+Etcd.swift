/// The gRPC status codes etcd answers with that change what we report (grpc/codes).
enum EtcdStatusCode {
    static let unknown = 2
    static let invalidArgument = 3
    static let notFound = 5
    static let outOfRange = 11
    static let unavailable = 14
}

extension KVError {
    /// Maps an error etcd answered to ours; `place` names the endpoint and call for the message.
    ///
    /// - Parameter leases: the leases the request named; etcd's "requested lease not found" does not say
    ///   which, and a request names at most a few.
    init(_ status: EtcdStatus, at place: String, leases: [KVLease.ID] = []) {
        switch status.grpcCode {
        case EtcdStatusCode.notFound where status.text.contains("lease not found"):
            self = .leaseNotFound(leases.first ?? 0)
        case EtcdStatusCode.invalidArgument:
            // e.g. "duplicate key given in txn request", "too many operations in txn request"
            self = .invalid("etcd: \(status.text)")
        default:
            self = .unavailable("\(place): \(status.text) (gRPC status \(status.grpcCode))")
        }
    }
}
