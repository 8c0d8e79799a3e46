import Foundation
public import StrictYAML

/// Every boot target's templates, loaded from one directory with a folder per target:
/// `boot/local/pxelinux.cfg`, `boot/install/grub.cfg`, … A machine's `bootTarget` picks the folder, the
/// virtual file asked for picks the template in it.
///
/// Loaded once at start and checked whole: every bad template is reported, `FILE:LINE:COLUMN`, before
/// anything serves.
public struct BootTemplateSet: Sendable, Hashable {
    /// Templates by target, then by template name.
    public var targets: [String: [String: BootTemplate]]

    public init(targets: [String: [String: BootTemplate]]) { self.targets = targets }

    public func template(target: String, name: String) -> BootTemplate? { targets[target]?[name] }

    /// Reads `directory`; nil when it does not exist.
    public static func load(directory: String) throws(Diagnostics) -> BootTemplateSet? {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        var targets: [String: [String: BootTemplate]] = [:]
        var problems: [Diagnostic] = []
        for target in ((try? files.contentsOfDirectory(atPath: directory)) ?? []).sorted() where !target.hasPrefix(".") {
            let folder = directory + "/" + target
            guard files.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            var templates: [String: BootTemplate] = [:]
            for name in ((try? files.contentsOfDirectory(atPath: folder)) ?? []).sorted() where !name.hasPrefix(".") {
                let path = folder + "/" + name
                do {
                    let text = try String(contentsOfFile: path, encoding: .utf8)
                    templates[name] = try BootTemplate(parsing: text)
                } catch let error as BootTemplateError {
                    problems.append(Diagnostic(error.message, at: SourceLocation(file: path, line: error.line, column: error.column)))
                } catch {
                    problems.append(Diagnostic("cannot read template: \(error.localizedDescription)", at: SourceLocation(file: path, line: 1, column: 1)))
                }
            }
            targets[target] = templates
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        return BootTemplateSet(targets: targets)
    }
}
