/// The release of bertd and bertctl: what `--version` prints and `status`/`ping` report.
public let bertdVersion = "0.1.0"
