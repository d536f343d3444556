import BertProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web console's routes: the page and its two assets (static, no data: open without a
/// token, so a browser can load them), and each model's label pictures
/// (`<model directory>/label_images/<label>.png|jpg|jpeg|svg`), which need the token like every
/// data route.
extension GatewayRoutes {
    static let consolePaths: Set<String> = ["/", "/console.css", "/console.js"]

    func addConsoleRoutes(_ router: Router<GatewayContext>) {
        router.get("/") { _, _ in Self.asset(ConsolePage.html, type: "text/html; charset=utf-8") }
        router.get("/console.css") { _, _ in Self.asset(ConsoleStyle.css, type: "text/css; charset=utf-8") }
        router.get("/console.js") { _, _ in Self.asset(ConsoleScript.js, type: "text/javascript; charset=utf-8") }
        router.get("/v1/models/:name/label_images/:label") { _, context in
            await labelImage(model: context.parameters.get("name") ?? "", label: context.parameters.get("label") ?? "", context)
        }
    }

    private static func asset(_ text: String, type: String) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(text)
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache",
                                               .contentSecurityPolicy: "default-src 'self'; img-src 'self' blob: data:; style-src 'self'"],
                        body: .init(byteBuffer: buffer))
    }

    /// The picture of one of a loaded model's labels, or 404 when it has none.
    private func labelImage(model rawModel: String, label rawLabel: String, _ context: GatewayContext) async -> Response {
        let model = rawModel.removingPercentEncoding ?? rawModel, label = rawLabel.removingPercentEncoding ?? rawLabel
        let models: JSON
        switch await call.run(.models, connection: connections.connection(of: context.channel)) {
        case .success(let result): models = result
        case .failure(let error): return JSONResponse.error(error)  // e.g. unavailable while stopping
        }
        guard case .array(let list)? = models["models"],
              let entry = list.first(where: { $0["name"]?.stringValue == model }),
              let path = entry["path"]?.stringValue else {
            return JSONResponse.error(ProtocolError(.unknownModel, "no model named \"\(model)\""))
        }
        // Only a label the model has: a request cannot name another file of the directory.
        guard case .array(let labels)? = entry["labels"], labels.contains(where: { $0.stringValue == label }),
              !label.contains("/"), !label.hasPrefix(".") else {
            return JSONResponse.error(ProtocolError(.unknownOp, "model \"\(model)\" has no label \"\(label)\""))
        }
        let folder = URL(fileURLWithPath: path).appendingPathComponent("label_images")
        for (ext, type) in [("png", "image/png"), ("jpg", "image/jpeg"), ("jpeg", "image/jpeg"), ("svg", "image/svg+xml")] {
            let file = folder.appendingPathComponent("\(label).\(ext)")
            // The size first: a picture over 8 MiB is skipped without being read.
            guard let size = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int, size <= 8 << 20,
                  let data = FileManager.default.contents(atPath: file.path) else { continue }
            var buffer = ByteBuffer()
            buffer.writeBytes(data)
            return Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=60"], body: .init(byteBuffer: buffer))
        }
        return JSONResponse.error(ProtocolError(.unknownOp, "model \"\(model)\" has no picture for \"\(label)\" (label_images/\(label).png|jpg|jpeg|svg)"))
    }
}
