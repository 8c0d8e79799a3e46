import Foundation

/// Typed objects over a `KVStore`: create, read, update with optimistic concurrency, delete, list, watch.
///
/// An update carries the revision its object was read at; if anyone changed the object since, the
/// update fails with `.conflict` and changes nothing. It never overwrites blindly.
public struct ObjectStore: Sendable {
    public let kv: any KVStore

    /// Where every object lives; the view projector watches this prefix.
    public static let prefix = "/osis/objects/"

    public init(kv: any KVStore) { self.kv = kv }

    public static func key(kind: String, id: String) -> String { "\(prefix)\(kind)/\(id)" }

    /// The (kind, id) a key names, or nil for keys outside the object space.
    public static func parse(key: String) -> (kind: String, id: String)? {
        guard key.hasPrefix(prefix) else { return nil }
        let rest = key.dropFirst(prefix.count)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        return (String(rest[..<slash]), String(rest[rest.index(after: slash)...]))
    }

    public func get<Object: OSISObject>(_ type: Object.Type, id: String) async throws(OSISError) -> Stored<Object>? {
        let key = try Self.checkedKey(type, id)
        guard let kv = try await store({ try await self.kv.get(key) }) else { return nil }
        return try decode(type, kv)
    }

    /// Creates `object`; fails with `.conflict` if an object with its id exists.
    @discardableResult
    public func create<Object: OSISObject>(_ object: Object) async throws(OSISError) -> Stored<Object> {
        try await write(object, expecting: 0)
    }

    /// Writes the changed `object` of `stored`, only if the stored object is still at `stored.revision`.
    @discardableResult
    public func update<Object: OSISObject>(_ stored: Stored<Object>) async throws(OSISError) -> Stored<Object> {
        try await write(stored.object, expecting: stored.revision, createRevision: stored.createRevision)
    }

    /// Reads, changes and writes an object, retrying on conflicts: for writers that only add to an object.
    @discardableResult
    public func modify<Object: OSISObject>(
        _ type: Object.Type, id: String, attempts: Int = 16, _ change: (inout Object) throws(OSISError) -> Void
    ) async throws(OSISError) -> Stored<Object> {
        var lastError = OSISError.notFound(kind: Object.kind, id: id)
        for _ in 0..<attempts {
            guard var current = try await get(type, id: id) else { throw OSISError.notFound(kind: Object.kind, id: id) }
            try change(&current.object)
            do {
                return try await update(current)
            } catch .conflict(let kind, let id, let expected, let actual) {
                lastError = .conflict(kind: kind, id: id, expected: expected, actual: actual)
            }
        }
        throw lastError
    }

    /// Writes `object` whatever its current revision: for data a single owner replaces wholesale.
    @discardableResult
    public func put<Object: OSISObject>(_ object: Object) async throws(OSISError) -> Stored<Object> {
        let key = try Self.checkedKey(Object.self, object.id)
        let data = try encode(object)
        let revision = try await store { try await self.kv.put(key, data) }
        return Stored(object: object, revision: revision, createRevision: revision)
    }

    /// Deletes the object if it is still at `revision` (nil: whatever its revision).
    public func delete<Object: OSISObject>(_ type: Object.Type, id: String, ifRevision revision: Int64? = nil) async throws(OSISError) {
        let key = try Self.checkedKey(type, id)
        let compares: [KVCompare] = revision.map { [.modRevision(key, equals: $0)] } ?? []
        let result = try await store { try await self.kv.transaction(KVTransaction(if: compares, then: [.delete(key)])) }
        if !result.succeeded, let revision {
            let actual = try await store { try await self.kv.get(key)?.modRevision ?? 0 }
            throw OSISError.conflict(kind: Object.kind, id: id, expected: revision, actual: actual)
        }
    }

    /// Objects of a kind in id order, a page at a time; with `idPrefix`, only ids starting with it.
    public func list<Object: OSISObject>(
        _ type: Object.Type, idPrefix: String = "", after: String? = nil, limit: Int = 100
    ) async throws(OSISError) -> (items: [Stored<Object>], more: Bool) {
        let prefix = Self.key(kind: Object.kind, id: idPrefix)
        let base = Self.key(kind: Object.kind, id: "")
        let page = try await store { try await self.kv.range(prefix: prefix, after: after.map { base + $0 }, limit: limit) }
        var items: [Stored<Object>] = []
        for kv in page.items { items.append(try decode(type, kv)) }
        return (items, page.more)
    }

    /// Every object of a kind (with `idPrefix`), reading page by page.
    public func all<Object: OSISObject>(_ type: Object.Type, idPrefix: String = "") async throws(OSISError) -> [Stored<Object>] {
        var result: [Stored<Object>] = []
        var after: String?
        while true {
            let page = try await list(type, idPrefix: idPrefix, after: after, limit: 500)
            result += page.items
            guard page.more, let last = page.items.last else { return result }
            after = last.object.id
        }
    }

    /// Commits several object writes as one transaction: all of them or none. With `requiring`, only if
    /// those compares hold too (a fence, such as a claim this process must still hold).
    public func commit(_ writes: [ObjectWrite], requiring: [KVCompare] = []) async throws(OSISError) -> Int64 {
        let transaction = KVTransaction(if: writes.compactMap(\.compare) + requiring, then: writes.map(\.operation))
        let result = try await store { try await self.kv.transaction(transaction) }
        guard result.succeeded else {
            // Name the first object that moved, for the caller's error message.
            for write in writes {
                guard case .modRevision(let key, let expected) = write.compare else { continue }
                let actual = try await store { try await self.kv.get(key)?.modRevision ?? 0 }
                if actual != expected, let (kind, id) = Self.parse(key: key) {
                    throw OSISError.conflict(kind: kind, id: id, expected: expected, actual: actual)
                }
            }
            throw OSISError.conflict(kind: "?", id: "?", expected: 0, actual: 0)
        }
        return result.revision
    }

    private func write<Object: OSISObject>(
        _ object: Object, expecting revision: Int64, createRevision: Int64? = nil
    ) async throws(OSISError) -> Stored<Object> {
        let key = try Self.checkedKey(Object.self, object.id)
        let data = try encode(object)
        let written = try await store { try await self.kv.compareAndSet(key, data, ifModRevision: revision) }
        guard let written else {
            let actual = try await store { try await self.kv.get(key)?.modRevision ?? 0 }
            throw OSISError.conflict(kind: Object.kind, id: object.id, expected: revision, actual: actual)
        }
        return Stored(object: object, revision: written, createRevision: createRevision ?? written)
    }

    /// The object a key-value pair of this store holds (from a watch, say).
    public func decode<Object: OSISObject>(_ type: Object.Type, _ kv: KeyValue) throws(OSISError) -> Stored<Object> {
        let id = Self.parse(key: kv.key)?.id ?? kv.key
        let object = try ObjectEnvelope.decode(type, id: id, from: kv.value)
        return Stored(object: object, revision: kv.modRevision, createRevision: kv.createRevision)
    }

    private func encode<Object: OSISObject>(_ object: Object) throws(OSISError) -> Data {
        do {
            return try ObjectEnvelope.encode(object)
        } catch {
            throw OSISError.corrupt(kind: Object.kind, id: object.id, reason: "cannot encode: \(error)")
        }
    }

    static func checkedKey<Object: OSISObject>(_ type: Object.Type, _ id: String) throws(OSISError) -> String {
        guard !id.isEmpty, !id.contains("/"), id.utf8.allSatisfy({ (0x21..<0x7f).contains($0) }) else {
            throw OSISError.invalidID(id)
        }
        return key(kind: Object.kind, id: id)
    }

    private func store<T>(_ body: () async throws -> T) async throws(OSISError) -> T {
        do {
            return try await body()
        } catch let error as KVError {
            throw OSISError.store(error)
        } catch {
            throw OSISError.store(.unavailable("\(error)"))
        }
    }
}

/// One write of a multi-object commit.
public struct ObjectWrite: Sendable {
    let compare: KVCompare?
    let operation: KVOperation

    /// A plain key write riding in the same transaction as object writes (e.g. a claim with a lease).
    public static func key(_ operation: KVOperation, if compare: KVCompare? = nil) -> ObjectWrite {
        ObjectWrite(compare: compare, operation: operation)
    }

    /// Creates the object; the commit fails if it exists.
    public static func create<Object: OSISObject>(_ object: Object) throws(OSISError) -> ObjectWrite {
        let key = try ObjectStore.checkedKey(Object.self, object.id)
        return ObjectWrite(compare: .modRevision(key, equals: 0), operation: .put(key, try encoded(object), lease: nil))
    }

    /// Writes the object of `stored`; the commit fails if it changed since it was read.
    public static func update<Object: OSISObject>(_ stored: Stored<Object>) throws(OSISError) -> ObjectWrite {
        let key = try ObjectStore.checkedKey(Object.self, stored.object.id)
        return ObjectWrite(compare: .modRevision(key, equals: stored.revision), operation: .put(key, try encoded(stored.object), lease: nil))
    }

    /// Writes the object whatever its revision.
    public static func put<Object: OSISObject>(_ object: Object) throws(OSISError) -> ObjectWrite {
        ObjectWrite(compare: nil, operation: .put(try ObjectStore.checkedKey(Object.self, object.id), try encoded(object), lease: nil))
    }

    public static func delete<Object: OSISObject>(_ type: Object.Type, id: String) throws(OSISError) -> ObjectWrite {
        ObjectWrite(compare: nil, operation: .delete(try ObjectStore.checkedKey(type, id)))
    }

    private static func encoded<Object: OSISObject>(_ object: Object) throws(OSISError) -> Data {
        do {
            return try ObjectEnvelope.encode(object)
        } catch {
            throw OSISError.corrupt(kind: Object.kind, id: object.id, reason: "cannot encode: \(error)")
        }
    }
}
