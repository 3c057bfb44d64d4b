// The SDK's values (ChannelRelease, Revision, ProtocolStatus, …) are defined by the protocol module;
// re-exporting it means `import ReleaseChannelClient` is all a caller needs.
@_exported import ReleaseChannelProtocol
