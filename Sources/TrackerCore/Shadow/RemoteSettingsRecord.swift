/// The applied shadow settings as `[store] dir/remote-settings.json` keeps them: the desired
/// document that was applied and its shadow version. Read at start, so a tracker that boots
/// without a connection runs on what it was last told, not on the file alone.
public struct RemoteSettingsRecord: Codable, Sendable, Equatable {
    public var version: Int
    public var desired: JSONValue

    public init(version: Int, desired: JSONValue) {
        self.version = version
        self.desired = desired
    }

    public init(_ settings: RemoteSettings, version: Int) {
        self.init(version: version, desired: .object(settings.document))
    }
}
