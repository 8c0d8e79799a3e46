import Foundation
import Hummingbird
import OSIS
import Workflow

/// The workflow API: start runs, look at them, cancel and resume them, and post events that wake
/// waiting steps (the machine agent and operators use the same endpoint).
///
/// - `GET  /api/v1/workflows`
/// - `POST /api/v1/runs` `{"workflow": "install", "machine": "52:54:…", "parameters": {"image": "debian-12"}}`
/// - `GET  /api/v1/runs/{id}`: the run and its jobs
/// - `POST /api/v1/runs/{id}/cancel`, `POST /api/v1/runs/{id}/resume`
/// - `POST /api/v1/events` `{"type": "machine.booted", "machine": "52:54:…", "data": {"ip": "10.0.0.5"}}`
struct RunsController: Sendable {
    let engine: WorkflowEngine

    struct StartRequest: Decodable {
        var workflow: String
        var machine: String?
        var parameters: [String: ParameterValue]?
    }

    /// A parameter as JSON gives it: string, number or boolean.
    enum ParameterValue: Decodable {
        case value(SpecValue)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let bool = try? container.decode(Bool.self) { self = .value(.bool(bool)) }
            else if let int = try? container.decode(Int.self) { self = .value(.int(int)) }
            else if let list = try? container.decode([String].self) { self = .value(.list(list.map(SpecValue.string))) }
            else { self = .value(.string(try container.decode(String.self))) }
        }

        var specValue: SpecValue { if case .value(let value) = self { value } else { .string("") } }
    }

    struct EventRequest: Decodable {
        var type: String
        var machine: String?
        var message: String?
        var data: [String: String]?
    }

    struct RunDetail: ResponseEncodable {
        var run: Run
        var jobs: [Job]
    }

    struct Workflows: ResponseEncodable {
        var workflows: [WorkflowSummary]
    }

    struct WorkflowSummary: Codable {
        var name: String
        var version: Int
        var description: String?
        var steps: [String]
    }

    struct Accepted: ResponseEncodable {
        var id: String
    }

    func add(to router: Router<some RequestContext>) {
        router.get("api/v1/workflows") { _, _ in
            Workflows(workflows: engine.catalog.names.compactMap { engine.catalog.spec($0) }.map {
                WorkflowSummary(name: $0.name, version: $0.version, description: $0.description, steps: $0.steps.map(\.id))
            })
        }
        router.post("api/v1/runs") { request, context in
            let body = try await request.decode(as: StartRequest.self, context: context)
            do {
                let run = try await engine.start(
                    workflow: body.workflow, machine: body.machine, parameters: (body.parameters ?? [:]).mapValues(\.specValue))
                return EditedResponse(status: .created, response: RunDetail(run: run, jobs: []))
            } catch let error as EngineError {
                throw HTTPError(.badRequest, message: "\(error)")
            }
        }
        router.get("api/v1/runs/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let run = try await engine.objects.get(Run.self, id: id) else { throw HTTPError(.notFound, message: "no run '\(id)'") }
            let jobs = try await engine.objects.all(Job.self, idPrefix: id + ".").map(\.object)
            return RunDetail(run: run.object, jobs: jobs)
        }
        router.post("api/v1/runs/:id/cancel") { _, context in
            let id = try context.parameters.require("id")
            do {
                try await engine.cancel(id)
                return EditedResponse(status: .accepted, response: Accepted(id: id))
            } catch let error as EngineError {
                throw HTTPError(.conflict, message: "\(error)")
            }
        }
        router.post("api/v1/runs/:id/resume") { _, context in
            let id = try context.parameters.require("id")
            do {
                try await engine.resume(id)
                return EditedResponse(status: .accepted, response: Accepted(id: id))
            } catch EngineError.unknownRun {
                throw HTTPError(.notFound, message: "no run '\(id)'")
            } catch let error as EngineError {
                throw HTTPError(.conflict, message: "\(error)")
            }
        }
        router.post("api/v1/events") { request, context in
            let body = try await request.decode(as: EventRequest.self, context: context)
            guard !body.type.isEmpty, body.type.count <= 100 else { throw HTTPError(.badRequest, message: "'type' must be 1 to 100 characters") }
            let event = Event(type: body.type, machine: body.machine, time: Date(), message: body.message ?? "", data: body.data ?? [:])
            try await engine.publish(event)
            return EditedResponse(status: .accepted, response: Accepted(id: event.id))
        }
    }
}
