import Foundation
import Hummingbird
import OSIS

/// iPXE scripts per machine: `GET /boot/<mac>.ipxe`, the URL the DHCP responder gives iPXE clients.
///
/// A machine whose boot target is the local disk (provisioned or retired, or fact `boot-target: local`)
/// gets a script that exits, so the firmware falls through to the next boot device instead of looping
/// back into the installer. Any other machine, known or not, is told to wait and ask again: it boots as
/// soon as a workflow gives it something to boot.
struct BootController: Sendable {
    let objects: ObjectStore

    func add(to router: Router<some RequestContext>) {
        router.get("boot/:script") { _, context -> Response in
            let script = try context.parameters.require("script")
            guard script.hasSuffix(".ipxe") else { throw HTTPError(.notFound) }
            let name = String(script.dropLast(5))
            let mac = (name.removingPercentEncoding ?? name).lowercased().replacingOccurrences(of: "-", with: ":")
            guard MachineRegistry.isMAC(mac) else { throw HTTPError(.notFound, message: "not a MAC address: \(mac)") }
            let machine = try await objects.get(Machine.self, id: mac)?.object
            let body = Self.script(mac: mac, machine: machine)
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
