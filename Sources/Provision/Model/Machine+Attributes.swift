import OSIS

extension Machine {
    /// What `${machine.FIELD}` resolves to in a spec: mac, hostname, address, architecture, state, and
    /// `facts.KEY` for each reported fact. Empty when the machine is unknown.
    static func attributes(_ mac: String, in objects: ObjectStore) async -> [String: String] {
        guard let machine = try? await objects.get(Machine.self, id: mac)?.object else { return ["mac": mac] }
        var attributes = ["mac": machine.mac, "state": machine.state.rawValue]
        attributes["hostname"] = machine.hostname
        attributes["address"] = machine.address
        attributes["architecture"] = machine.architecture
        for (key, value) in machine.facts { attributes["facts." + key] = value }
        return attributes
    }
}
