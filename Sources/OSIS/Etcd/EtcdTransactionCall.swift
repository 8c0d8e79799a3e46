import Foundation

/// The gateway call a transaction becomes: a bare put or delete when it is one unconditional write (the
/// shape of `put` and `delete`, the commonest writes), else a `txn`. Either way it is one etcd revision.
struct EtcdTransactionCall: Sendable {
    static let txnPath = "/v3/kv/txn"

    var path: String
    var body: any Encodable & Sendable

    /// Checks the keys written and builds the call. Keys of both branches are checked, since which one
    /// runs is only known inside etcd.
    init(_ transaction: KVTransaction) throws(KVError) {
        for case .put(let key, _, _) in transaction.then + transaction.otherwise { try KVKey.validate(key) }
        if transaction.compares.isEmpty, transaction.otherwise.isEmpty, transaction.then.count == 1 {
            switch transaction.then[0] {
            case .put(let key, let value, let lease):
                path = "/v3/kv/put"
                body = Self.put(key, value, lease)
            case .delete, .deletePrefix:
                path = "/v3/kv/deleterange"
                body = Self.deleteRange(transaction.then[0])
            }
        } else {
            path = Self.txnPath
            body = EtcdTxnRequest(
                compare: transaction.compares.map(Self.compare), success: transaction.then.map(Self.operation),
                failure: transaction.otherwise.map(Self.operation))
        }
    }

    private static func compare(_ compare: KVCompare) -> EtcdCompare {
        switch compare {
        case .modRevision(let key, let revision):
            // etcd compares a missing key as mod revision 0, which is our "does not exist".
            return EtcdCompare(key: EtcdBytes(key), target: "MOD", mod_revision: EtcdInt64(revision))
        case .value(let key, let value):
            // etcd fails a VALUE comparison on a missing key, as we do.
            return EtcdCompare(key: EtcdBytes(key), target: "VALUE", value: EtcdBytes(value))
        }
    }

    private static func operation(_ operation: KVOperation) -> EtcdRequestOp {
        switch operation {
        case .put(let key, let value, let lease):
            return EtcdRequestOp(request_put: put(key, value, lease))
        case .delete, .deletePrefix:
            return EtcdRequestOp(request_delete_range: deleteRange(operation))
        }
    }

    private static func put(_ key: String, _ value: Data, _ lease: KVLease.ID?) -> EtcdPutRequest {
        EtcdPutRequest(key: EtcdBytes(key), value: EtcdBytes(value), lease: lease.map(EtcdInt64.init))
    }

    /// A delete of a missing key changes nothing, and etcd then takes no revision, as we require.
    private static func deleteRange(_ operation: KVOperation) -> EtcdDeleteRangeRequest {
        switch operation {
        case .delete(let key):
            return EtcdDeleteRangeRequest(key: EtcdBytes(key))
        case .deletePrefix(let prefix):
            let range = EtcdKeyRange.prefix(prefix)
            return EtcdDeleteRangeRequest(key: range.key, range_end: range.end)
        case .put:
            preconditionFailure("not a delete")
        }
    }
}

extension KVTransaction {
    /// The leases its puts name, to say which one etcd did not find.
    var leases: [KVLease.ID] {
        (then + otherwise).compactMap { operation in
            if case .put(_, _, let lease?) = operation { return lease }
            return nil
        }
    }
}
