import Foundation
import Net
import NIOCore
import OSIS
import Provision
import StrictYAML
import Testing
import TestSupport
import Workflow

/// Per-machine boot configs: templates checked at load, rendered from the machine in the store, found by
/// MAC in the name or by the client's address.
@Suite struct BootConfigFilesTests {
    static let client = try! SocketAddress(ipAddress: "10.0.0.21", port: 2000)

    @Test func templatesRenderVariablesAndLeaveIPXEVariablesAlone() throws {
        let template = try BootTemplate(parsing: "kernel tftp://${next-server}/k host={{machine.hostname}} mac={{ mac }} v={{machine.facts.vendor}} x={{machine.architecture}}\n")
        let text = template.render(["machine.hostname": "node1", "mac": "52:54:00:00:00:01", "machine.facts.vendor": "QEMU"])
        #expect(text == "kernel tftp://${next-server}/k host=node1 mac=52:54:00:00:00:01 v=QEMU x=\n")
    }

    @Test(arguments: [
        ("a\n  {{macc}}", "2:3: unknown variable 'macc' (known: client, mac, mac-hyphen, path, server, target, machine.FIELD)"),
        ("{{machine.serial}}", "1:1: unknown variable 'machine.serial' (known: client, mac, mac-hyphen, path, server, target, machine.FIELD)"),
        ("x {{mac", "1:3: '{{' is not closed"),
    ])
    func badTemplatesSayWhere(text: String, error: String) {
        #expect(throws: BootTemplateError.self) { try BootTemplate(parsing: text) }
        let message = Result(catching: { try BootTemplate(parsing: text) }).failureDescription
        #expect(message == error)
    }

    @Test func theShippedTemplatesLoad() throws {
        let set = try #require(try BootTemplateSet.load(directory: Self.shippedTemplates))
        #expect(Set(set.targets.keys) == ["local", "install"])
        for target in set.targets.values { #expect(Set(target.keys) == ["pxelinux.cfg", "grub.cfg", "boot.ipxe"]) }
    }

    @Test func everyBadTemplateIsReportedWithItsFile() throws {
        let directory = try TemporaryDirectory("boot")
        defer { directory.remove() }
        for folder in ["t", "u"] {
            try FileManager.default.createDirectory(atPath: directory.file(folder), withIntermediateDirectories: true)
        }
        try directory.write("t/a.cfg", "ok {{mac}}\n")
        try directory.write("t/b.cfg", "\n{{nope}}\n")
        try directory.write("u/c.cfg", "{{mac")
        #expect(try BootTemplateSet.load(directory: directory.file("missing")) == nil)
        do {
            _ = try BootTemplateSet.load(directory: directory.path)
            Issue.record("bad templates loaded")
        } catch {
            #expect(error.items.map(\.location.description) == [directory.file("t/b.cfg") + ":2:1", directory.file("u/c.cfg") + ":1:1"])
        }
    }

    @Test func configReadsBootConfigs() throws {
        let config = try ApplianceConfig.parse("""
            tftp:
              boot-configs:
                templates: /srv/boot
                default-target: rescue
                files:
                  pxelinux.cfg/01-{mac}: pxelinux.cfg
                  menu.ipxe: boot.ipxe
            """, file: "a.yaml")
        #expect(config.tftp.bootConfigs.templates == "/srv/boot")
        #expect(config.tftp.bootConfigs.defaultTarget == "rescue")
        #expect(config.tftp.bootConfigs.files == [.init("pxelinux.cfg/01-{mac}", template: "pxelinux.cfg"), .init("menu.ipxe", template: "boot.ipxe")])
        #expect(ApplianceConfig().tftp.bootConfigs.files == BootConfigFiles.defaultRoutes)
        do {
            _ = try ApplianceConfig.parse("tftp:\n  boot-configs:\n    files:\n      a-{mac}-{mac}: x/y\n    target: a\n", file: "a.yaml")
            Issue.record("bad boot-configs accepted")
        } catch {
            #expect(error.items.map(\.description) == [
                "a.yaml:4:22: 'a-{mac}-{mac}' may hold '{mac}' once", "a.yaml:4:22: 'x/y' is not a template file name",
                "a.yaml:5:5: unknown key 'target' (allowed here: default-target, files, templates)",
            ])
        }
    }

    @Test func configReadsUploads() throws {
        #expect(ApplianceConfig().tftp.uploads == nil, "uploads are off unless configured")
        let config = try ApplianceConfig.parse("tftp:\n  uploads:\n    directory: /srv/in\n    overwrite: true\n    max-size: 512KiB\n", file: "a.yaml")
        #expect(config.tftp.uploads == TFTPUploadsConfig(directory: "/srv/in", overwrite: true, maxSize: 512 << 10))
        #expect(try ApplianceConfig.parse("tftp:\n  uploads: {}\n", file: "a.yaml").tftp.uploads == TFTPUploadsConfig())
        #expect(try ApplianceConfig.parse("tftp:\n  uploads: { max-size: 4096 }\n", file: "a.yaml").tftp.uploads?.maxSize == 4096)
        do {
            _ = try ApplianceConfig.parse("tftp:\n  uploads:\n    max-size: 12 MB\n", file: "a.yaml")
            Issue.record("bad size accepted")
        } catch {
            #expect(error.items.map(\.description) == ["a.yaml:3:15: '12 MB' is not a size in bytes, e.g. 67108864, 512KiB, 64MiB or 1GiB"])
        }
    }

    @Test func configReadsTransferLimitsAndTheCache() throws {
        #expect(ApplianceConfig().tftp.limits == TFTPLimits())
        let config = try ApplianceConfig.parse("tftp:\n  max-block-size: 1468\n  max-window: 16\n  max-window-bytes: 4MiB\n", file: "a.yaml")
        #expect(config.tftp.limits == TFTPLimits(maxBlockSize: 1468, maxWindowSize: 16, maxWindowBytes: 4 << 20))
        let cached = try ApplianceConfig.parse("tftp:\n  cache-size: 1GiB\n  cache-max-file: 128MiB\n", file: "a.yaml").tftp
        #expect(cached.cacheSize == 1 << 30 && cached.cacheMaxFile == 128 << 20)
        #expect(ApplianceConfig().tftp.cacheMaxFile == 32 << 20)
        do {
            _ = try ApplianceConfig.parse("tftp:\n  max-block-size: 70000\n  max-window-bytes: lots\n", file: "a.yaml")
            Issue.record("bad limits accepted")
        } catch {
            #expect(error.items.count == 2)
            #expect(error.items.first?.description.hasPrefix("a.yaml:2:19: ") == true)
            #expect(error.items.last?.description == "a.yaml:3:21: 'lots' is not a size in bytes, e.g. 98304, 96KiB or 4MiB")
        }
    }

    @Test func aMachinesBootTargetPicksWhatItGets() async throws {
        try await withStore { objects, state, files in
            #expect(await files.render("pxelinux.cfg/01-52-54-00-00-00-01", for: Self.client) == nil, "unknown machine: the root answers")
            try await objects.create(Machine(mac: "52:54:00:00:00:01", hostname: "node1"))
            let local = try #require(await files.render("pxelinux.cfg/01-52-54-00-00-00-01", for: Self.client))
            #expect(String(buffer: local).contains("Boot target 'local' for 52:54:00:00:00:01 (node1)"))
            #expect(String(buffer: local).contains("LOCALBOOT 0"))

            try await objects.modify(Machine.self, id: "52:54:00:00:00:01") { $0.bootTarget = "install" }
            let install = try #require(await files.render("grub.cfg-52:54:00:00:00:01", for: Self.client))
            #expect(String(buffer: install).contains("linux install/vmlinuz hostname=node1 provision.mac=52:54:00:00:00:01 provision.server=http://10.0.0.1:8080"))

            try await objects.modify(Machine.self, id: "52:54:00:00:00:01") { $0.bootTarget = "gone" }
            #expect(await files.render("grub.cfg-52:54:00:00:00:01", for: Self.client) == nil, "a target without templates: the root answers")
            #expect(await files.render("grub.cfg", for: Self.client) == nil)
        }
    }

    @Test func aNameWithoutMACIsForTheMachineUsingTheAddress() async throws {
        try await withStore { objects, state, files in
            #expect(await files.render("boot.ipxe", for: Self.client) == nil)
            // A bound lease names the machine until it records an address of its own.
            try await objects.create(Machine(mac: "52:54:00:00:00:02", hostname: "leased", bootTarget: "install"))
            try await objects.create(Lease(network: "lab", address: "10.0.0.21", mac: "52:54:00:00:00:02", state: .bound, expiresAt: Date() + 3600))
            try await objects.create(Lease(network: "lab", address: "10.0.0.22", mac: "52:54:00:00:00:09", state: .expired, expiresAt: Date() + 7200))
            _ = try await state.projector.reindex()
            let leased = try #require(await files.render("boot.ipxe", for: Self.client))
            #expect(String(buffer: leased).contains("#!ipxe\n# Boot target 'install' for 52:54:00:00:00:02 (leased)"))
            #expect(String(buffer: leased).contains("kernel tftp://${next-server}/install/vmlinuz hostname=leased"))
            let expired = try SocketAddress(ipAddress: "10.0.0.22", port: 2000)
            #expect(await MachineLocator(index: state.index).mac(forAddress: "10.0.0.22") == nil)
            #expect(await files.render("boot.ipxe", for: expired) == nil)

            try await objects.create(Machine(mac: "52:54:00:00:00:03", hostname: "fixed", address: "10.0.0.21"))
            _ = try await state.projector.reindex()
            let fixed = try #require(await files.render("boot.ipxe", for: Self.client))
            #expect(String(buffer: fixed).contains("Boot target 'local' for 52:54:00:00:00:03 (fixed)"))
        }
    }

    @Test func aWorkflowStepSetsTheBootTarget() async throws {
        try await withStore { objects, _, files in
            let spec = WorkflowSpec(name: "reinstall", steps: [
                StepSpec(id: "install", action: "boot.set-target", arguments: ["target": .string("install")]),
                StepSpec(id: "bad", action: "boot.set-target", arguments: ["target": .string("../etc")], needs: ["install"]),
            ])
            let engine = WorkflowEngine(objects: objects, catalog: WorkflowCatalog([spec]), actions: ApplianceActions.registry)
            try await objects.create(Machine(mac: "52:54:00:00:00:04", hostname: "node4"))
            let run = try await engine.start(workflow: "reinstall", machine: "52:54:00:00:00:04")
            #expect(try await engine.waitUntilFinished(run.id).state == .failed, "the second step names no target")
            #expect(try await objects.get(Machine.self, id: "52:54:00:00:00:04")?.object.bootTarget == "install")
            let config = try #require(await files.render("pxelinux.cfg/01-52-54-00-00-00-04", for: Self.client))
            #expect(String(buffer: config).contains("KERNEL install/vmlinuz"))
            engine.shutdown()
        }
    }

    static var shippedTemplates: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("appliance/boot").path
    }

    func withStore(_ body: (ObjectStore, ApplianceState, BootConfigFiles) async throws -> Void) async throws {
        let directory = try TemporaryDirectory("boot")
        defer { directory.remove() }
        let path = directory.file("state.sqlite")
        let state = ApplianceState(kv: try SQLiteKV(path: path), views: try SQLiteViewStore(path: path))
        try await state.projector.prepare()
        let objects = ObjectStore(kv: state.kv)
        let templates = try #require(try BootTemplateSet.load(directory: Self.shippedTemplates))
        let files = BootConfigFiles(
            templates: templates, defaultTarget: "local", server: "http://10.0.0.1:8080", objects: objects,
            locator: MachineLocator(index: state.index))
        try await body(objects, state, files)
        await state.close()
    }
}

extension Result {
    var failureDescription: String? {
        if case .failure(let error) = self { return "\(error)" }
        return nil
    }
}
