import BertCore
import BertProtocol
import BertServer
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The protocol's typed operation (Hummingbird has a `Request` of its own).
typealias BertOperation = BertProtocol.Request.Operation

/// The routes of one listener. Every route maps its JSON onto a protocol operation and goes
/// through `BertServer.dispatch` (same limits, codes and batches as ZeroMQ). The admin routes
/// are registered only on the admin listener: on the public one they do not exist (404).
struct GatewayRoutes {
    let call: GatewayCall
    let server: BertServer
    let connections: HTTPConnections
    let maxBodyBytes: Int
    /// The listener's bearer tokens; nil: no authentication.
    let tokens: BearerTokens?
    /// `[metrics] address`: only /metrics and the probes.
    var metricsOnly = false

    func router() -> Router<GatewayContext> {
        let router = Router(context: GatewayContext.self)
        let methods = RouteMethods()
        defer { methods.record(router.routes) }
        router.middlewares.add(ErrorMiddleware(routes: methods))
        if let tokens { router.middlewares.add(BearerAuthMiddleware(tokens: tokens)) }
        router.get("/healthz") { _, _ in JSONResponse.ok(.object([("status", .string("alive"))])) }
        router.get("/readyz") { _, _ in
            let state = server.readiness
            return JSONResponse.ok(.object([("status", .string(state.rawValue))]),
                                   status: state == .ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            var buffer = ByteBuffer()
            buffer.writeString(server.metrics.exposition())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: buffer))
        }
        if metricsOnly { return router }
        addConsoleRoutes(router)
        router.get("/v1/models") { _, context in await respond(.models, context) }
        router.get("/v1/status") { _, context in await respond(.status, context) }
        router.post("/v1/classify") { request, context in
            await respond(request, context) { .classify(try RequestBodies.inference($0)) }
        }
        router.post("/v1/embed") { request, context in
            await respond(request, context) { f in
                guard f["labels"] == nil else { throw ProtocolError(.badRequest, "\"labels\" is for /v1/classify") }
                return .embed(try RequestBodies.inference(f))
            }
        }
        router.post("/v1/explain") { request, context in
            await respond(request, context) { .explain(try RequestBodies.explanation($0)) }
        }
        router.post("/predict") { request, context in await predict(request, context) }
        router.post("/embed") { request, context in
            await respond(request, context, shape: TEI.embedResponse) { .embed(try TEI.embedRequest($0)) }
        }
        router.post("/v1/embeddings") { request, context in
            await respond(request, context, shape: OpenAIEmbeddings.response) { .embed(try OpenAIEmbeddings.request($0)) }
        }
        if call.admin { addAdminRoutes(router) }
        return router
    }

    private func addAdminRoutes(_ router: Router<GatewayContext>) {
        router.post("/v1/load") { request, context in
            await respond(request, context) { try RequestParser.load($0) }
        }
        router.post("/v1/unload") { request, context in
            await respond(request, context) { .unload(name: try RequestBodies.requiredString($0, "name")) }
        }
        router.post("/v1/train") { request, context in await respond(request, context) { .train(try RequestBodies.training($0)) } }
        router.get("/v1/jobs") { _, context in await respond(.jobs(id: nil), context) }
        router.get("/v1/events") { request, _ in events(request) }
        router.get("/v1/jobs/:id") { _, context in await respond(.jobs(id: context.parameters.get("id")), context) }
        router.post("/v1/jobs/:id/cancel") { _, context in
            guard let id = context.parameters.get("id") else { return JSONResponse.error(ProtocolError(.badRequest, "no job id")) }
            return await respond(.cancel(job: id), context)
        }
    }

    /// Server-Sent Events: what the PUB socket publishes, from now on, whose topic starts with
    /// `?topic=` (all without it): `event: job.step` and `data: {…}` per event, until the client
    /// leaves or the server stops.
    private func events(_ request: Request) -> Response {
        let prefix = request.uri.queryParameters.get("topic") ?? ""
        let stream = server.eventStreams.subscribe(prefix: prefix)
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                        body: ResponseBody { writer in
                            // A comment first, so the client knows the stream is open before any event.
                            try await writer.write(ByteBuffer(string: ": bertd events \(prefix.isEmpty ? "(all)" : prefix)\n\n"))
                            for await event in stream {
                                try await writer.write(ByteBuffer(string: "event: \(event.topic)\ndata: \(event.json)\n\n"))
                            }
                            try await writer.finish(nil)
                        })
    }

    // MARK: helpers

    /// Runs an operation and answers with its result, or its error and status.
    private func respond(_ operation: BertOperation, _ context: GatewayContext, shape: (JSON) -> JSON = { $0 }) async -> Response {
        switch await call.run(operation, connection: connections.connection(of: context.channel)) {
        case .success(let result): return JSONResponse.ok(shape(result))
        case .failure(let error): return JSONResponse.error(error)
        }
    }

    /// Reads and parses the JSON body, builds the operation, runs it.
    private func respond(_ request: Request, _ context: GatewayContext, shape: (JSON) -> JSON = { $0 },
                         _ operation: ([String: Any]) throws -> BertOperation) async -> Response {
        do {
            return await respond(try operation(try await body(request)), context, shape: shape)
        } catch {
            return JSONResponse.error(error)
        }
    }

    /// TEI's /predict: classify, then TEI's shape; raw scores are labelled in the model's id order.
    private func predict(_ request: Request, _ context: GatewayContext) async -> Response {
        let connection = connections.connection(of: context.channel)
        do {
            let (inference, single, rawScores) = try TEI.predictRequest(try await body(request))
            let result: JSON
            switch await call.run(.classify(inference), connection: connection) {
            case .success(let r): result = r
            case .failure(let error) where error.code == .unsupported:
                return JSONResponse.error(ProtocolError(.unsupported, "the model has no classification head: /predict needs one "
                                                            + "(for zero-shot labels use /v1/classify with \"labels\")"))
            case .failure(let error): return JSONResponse.error(error)
            }
            var labels: [String] = []
            if rawScores, case .success(let models) = await call.run(.models, connection: connection),
               case .array(let list)? = models["models"],
               case .array(let names)? = list.first(where: { $0["name"]?.stringValue == result["model"]?.stringValue })?["labels"] {
                labels = names.compactMap(\.stringValue)
            }
            return JSONResponse.ok(TEI.predictResponse(result, single: single, rawScores: rawScores, labelsInIdOrder: labels))
        } catch {
            return JSONResponse.error(error)
        }
    }

    /// The body as a JSON object: JSON (or curl -d's default form type, or none) and at most
    /// `maxBodyBytes`, else 415 or 413.
    private func body(_ request: Request) async throws -> [String: Any] {
        if let type = request.headers[.contentType]?.lowercased() {
            let mediaType = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard ["application/json", "application/x-www-form-urlencoded", "text/json"].contains(mediaType) else {
                throw UnsupportedMediaType(type: type)
            }
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw ProtocolError(.tooLarge, "the body has \(length) bytes; the limit is \(maxBodyBytes)")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            throw ProtocolError(.tooLarge, "the body is larger than \(maxBodyBytes) bytes")
        }
        return try RequestBodies.object(Array(buffer.readableBytesView))
    }
}

/// A body that is not JSON: 415, code bad_request.
struct UnsupportedMediaType: Error {
    let type: String
}

/// Errors outside the routes (unknown route or method) as the same JSON error bodies as every
/// route's.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    /// The listener's routes: a path that exists under other methods gets 405, not 404.
    let routes: RouteMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            // (A route's own 404 for its method is its answer, not a wrong method.)
            let allowed = routes.allowed(path: request.uri.path)
            guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else {
                return JSONResponse.error(ProtocolError(.unknownOp, "no route \(request.method) \(request.uri.path)"))
            }
            var response = JSONResponse.error(ProtocolError(.unknownOp, "\(request.uri.path) takes \(allowed.joined(separator: ", ")), not \(request.method)"))
            response.status = .methodNotAllowed
            response.headers[.allow] = allowed.joined(separator: ", ")
            return response
        } catch let error as HTTPError {
            var response = JSONResponse.error(ProtocolError(.badRequest, error.body ?? "\(error.status)"))
            response.status = error.status
            return response
        } catch {
            return JSONResponse.error(error)
        }
    }
}
