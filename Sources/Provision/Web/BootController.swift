import Foundation
import Hummingbird
import OSIS

/// iPXE scripts per machine: `GET /boot/<mac>.ipxe`, the URL the DHCP responder gives iPXE clients.
///
/// A machine with a boot target of its own (`PUT /api/v1/machines/{mac}/boot-target`) gets that
/// target's `boot.ipxe` template, rendered as TFTP renders its boot configs, so both ways of booting
/// follow the same target. Otherwise: a machine whose boot target is the local disk (provisioned or
/// retired, or fact `boot-target: local`) gets a script that exits, so the firmware falls through to the
/// next boot device instead of looping back into the installer; any other machine, known or not, is told
/// to wait and ask again: it boots as soon as a workflow gives it something to boot.
struct BootController: Sendable {
    let objects: ObjectStore
    /// The boot config templates, when the appliance has any.
    var bootConfigs: BootConfigFiles?

    func add(to router: Router<some RequestContext>) {
        router.get("boot/:script") { request, context -> Response in
            let script = try context.parameters.require("script")
            guard script.hasSuffix(".ipxe") else { throw HTTPError(.notFound) }
            let name = String(script.dropLast(5))
            let mac = (name.removingPercentEncoding ?? name).lowercased().replacingOccurrences(of: "-", with: ":")
            guard MachineRegistry.isMAC(mac) else { throw HTTPError(.notFound, message: "not a MAC address: \(mac)") }
            let machine = try await objects.get(Machine.self, id: mac)?.object
            // {{client}} is the machine's known address: the router's context does not carry the peer.
            let body = machine.flatMap {
                bootConfigs?.render(template: "boot.ipxe", for: $0, client: $0.address ?? "", path: request.uri.path)
            }
                ?? Self.script(mac: mac, machine: machine)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
    }

    static func bootsLocally(_ machine: Machine?) -> Bool {
        guard let machine else { return false }
        return machine.state == .provisioned || machine.state == .retired || machine.facts["boot-target"] == "local"
    }

    static func script(mac: String, machine: Machine?) -> String {
        if bootsLocally(machine) {
            return "#!ipxe\necho Provision: \(mac) boots from its local disk\nexit\n"
        }
        let file = mac.replacingOccurrences(of: ":", with: "-") + ".ipxe"
        return "#!ipxe\necho Provision: nothing to boot for \(mac) yet, asking again in 10 s\nsleep 10\nchain --autofree \(file)\n"
    }
}
