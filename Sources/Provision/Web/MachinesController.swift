import Foundation
import Hummingbird
import Net
import OSIS
import Workflow

/// The inventory API.
///
/// - `POST /api/v1/machines` `{"mac": "52:54:00:12:34:56", "hostname": "node1", "address": "10.0.0.21",
///   "architecture": "uefi-x64", "facts": {"vendor": "QEMU"}}`: enrolls a machine (201), or returns the known
///   one (200); a matching enrollment rule starts its workflow. With a host name and an address the machine
///   is in DNS at once (see Sources/Net/DNS/README.md).
/// - `GET /api/v1/machines/{mac}`
/// - `PUT /api/v1/machines/{mac}/boot-target` `{"target": "install"}`: what the machine's boot configs
///   are rendered from next time its firmware asks (`{"target": null}`: the configured default).
/// Listing and filtering go through `GET /api/v1/views/machine`.
struct MachinesController: Sendable {
    let registry: MachineRegistry

    struct EnrollRequest: Decodable {
        var mac: String
        var hostname: String?
        /// A fixed address, when the machine does not get one from the appliance's DHCP.
        var address: String?
        var architecture: String?
        var facts: [String: String]?
    }

    struct BootTargetRequest: Decodable {
        var target: String?
    }

    struct Enrolled: ResponseEncodable {
        var machine: Machine
        var run: String?
    }

    func add(to router: Router<some RequestContext>) {
        router.post("api/v1/machines") { request, context in
            let body = try await request.decode(as: EnrollRequest.self, context: context)
            if let address = body.address, IPv4Address(address) == nil {
                throw HTTPError(.badRequest, message: "'\(address)' is not an IPv4 address")
            }
            let machine = Machine(
                mac: body.mac, hostname: body.hostname, architecture: body.architecture, address: body.address, facts: body.facts ?? [:])
            do {
                let discovery = try await registry.discovered(machine)
                return EditedResponse(
                    status: discovery.isNew ? .created : .ok, response: Enrolled(machine: discovery.machine, run: discovery.run?.id))
            } catch let error as RegistryError {
                throw HTTPError(.badRequest, message: "\(error)")
            } catch let error as EngineError {
                throw HTTPError(.unprocessableContent, message: "machine enrolled, but its enrollment workflow did not start: \(error)")
            }
        }
        router.get("api/v1/machines/:mac") { _, context in
            let mac = try context.parameters.require("mac").lowercased()
            guard let machine = try await registry.objects.get(Machine.self, id: mac) else {
                throw HTTPError(.notFound, message: "no machine \(mac)")
            }
            return Enrolled(machine: machine.object, run: machine.object.workflow)
        }
        router.put("api/v1/machines/:mac/boot-target") { request, context in
            let mac = try context.parameters.require("mac").lowercased()
            let target = try await request.decode(as: BootTargetRequest.self, context: context).target
            if let target, !Self.isTargetName(target) {
                throw HTTPError(.badRequest, message: "'\(target)' is not a boot target name (letters, digits, '-', '_', '.')")
            }
            do {
                let stored = try await registry.objects.modify(Machine.self, id: mac) { machine in
                    machine.bootTarget = target
                    machine.updatedAt = Date()
                }
                return Enrolled(machine: stored.object, run: stored.object.workflow)
            } catch let error as OSISError {
                if case .notFound = error { throw HTTPError(.notFound, message: "no machine \(mac)") }
                throw error
            }
        }
    }

    /// A target names a template folder: no path separators, no hidden names.
    static func isTargetName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
    }
}
