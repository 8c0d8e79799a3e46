import Foundation
public import Net
public import NIOCore
public import OSIS

/// Per-machine boot configs as TFTP virtual files, rendered from the store on every request: the
/// machine's `bootTarget` picks the template folder, its fields fill the template. Changing a machine's
/// boot target (`PUT /api/v1/machines/{mac}/boot-target`) changes what its firmware gets next, and no
/// file is ever written.
///
/// A name with `{mac}` (`pxelinux.cfg/01-{mac}`) names the machine itself; a name without one
/// (`boot.ipxe`) is for the machine using the client's address (see `MachineLocator`). An unknown
/// machine, or a target without that template, gets nothing here, so the TFTP root answers: pxelinux
/// then falls back to `pxelinux.cfg/default` as it always does.
public struct BootConfigFiles: VirtualFileProvider {
    /// A virtual file name pattern and the template file it renders.
    public struct Route: Sendable, Hashable {
        public var pattern: String
        public var template: String

        public init(_ pattern: String, template: String) {
            self.pattern = pattern
            self.template = template
        }
    }

    /// What `provision` serves when the config names no files.
    public static let defaultRoutes = [
        Route("pxelinux.cfg/01-{mac}", template: "pxelinux.cfg"),
        Route("grub.cfg-{mac}", template: "grub.cfg"),
        Route("boot.ipxe", template: "boot.ipxe"),
    ]

    public let routes: [Route]
    public let templates: BootTemplateSet
    /// The target of machines that have none.
    public let defaultTarget: String
    /// `{{server}}`: the appliance's HTTP base URL, when configured.
    public let server: String?
    public let objects: ObjectStore
    public let locator: MachineLocator

    public init(
        routes: [Route] = defaultRoutes, templates: BootTemplateSet, defaultTarget: String, server: String?,
        objects: ObjectStore, locator: MachineLocator
    ) {
        self.routes = routes
        self.templates = templates
        self.defaultTarget = defaultTarget
        self.server = server
        self.objects = objects
        self.locator = locator
    }

    public func render(_ path: String, for client: SocketAddress) async -> ByteBuffer? {
        guard let route = routes.first(where: { TemplateVirtualFiles.match($0.pattern, path) != nil }),
            let named = TemplateVirtualFiles.match(route.pattern, path)
        else { return nil }
        let address = client.ipAddress ?? ""
        var mac = named
        if mac == nil { mac = await locator.mac(forAddress: address) }
        guard let mac, let machine = try? await objects.get(Machine.self, id: mac)?.object else { return nil }
        let target = machine.bootTarget ?? defaultTarget
        guard let template = templates.template(target: target, name: route.template) else { return nil }
        return ByteBuffer(string: template.render(values(machine, target: target, client: address, path: path)))
    }

    /// `template` of the machine's own boot target, for the HTTP boot-script route: nil when the machine
    /// has no target of its own, or its target has no such template.
    public func render(template: String, for machine: Machine, client: String, path: String) -> String? {
        guard let target = machine.bootTarget, let text = templates.template(target: target, name: template) else { return nil }
        return text.render(values(machine, target: target, client: client, path: path))
    }

    func values(_ machine: Machine, target: String, client: String, path: String) -> [String: String] {
        var values = [
            "mac": machine.mac, "mac-hyphen": machine.mac.replacingOccurrences(of: ":", with: "-"), "client": client,
            "target": target, "path": path, "machine.mac": machine.mac, "machine.state": machine.state.rawValue,
        ]
        values["server"] = server
        values["machine.hostname"] = machine.hostname
        values["machine.address"] = machine.address ?? client
        values["machine.architecture"] = machine.architecture
        for (key, value) in machine.facts { values["machine.facts." + key] = value }
        return values
    }
}
