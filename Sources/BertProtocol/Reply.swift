/// Replies: `{"v":1,"id":…,"ok":true,"result":{…}}` or `{"v":1,"id":…,"ok":false,"error":{"code":…,"message":…}}`.
public enum Reply {
    public static func success(id: JSON, result: JSON) -> JSON {
        .object([("v", .int(protocolVersion)), ("id", id), ("ok", .bool(true)), ("result", result)])
    }

    public static func failure(id: JSON, error: ProtocolError) -> JSON {
        .object([("v", .int(protocolVersion)), ("id", id), ("ok", .bool(false)),
                 ("error", .object([("code", .string(error.code.rawValue)), ("message", .string(error.message))]))])
    }
}

/// Events on the PUB socket: a topic frame, then a JSON frame `{"event": topic, "time": …, …}`.
public enum EventTopic: String, Sendable {
    case modelLoaded = "model.loaded"
    case modelUnloaded = "model.unloaded"
    case modelLoadFailed = "model.load_failed"
    case jobQueued = "job.queued", jobStarted = "job.started", jobStep = "job.step", jobEval = "job.eval"
    case jobCheckpoint = "job.checkpoint", jobFinished = "job.finished", jobFailed = "job.failed", jobCancelled = "job.cancelled"
    /// The daemon stopped during the job; it resumes from its last resume point at the next start.
    case jobInterrupted = "job.interrupted"
    /// A sweep job's run finished (or, with halving, paused at a round's end).
    case jobPoint = "job.point"
}
