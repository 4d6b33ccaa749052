namespace Warren.Storage;

/// <summary>A Warren process that shares the index: its node name, the identity of this process (a node restarted is a
/// new instance), its version, when it started and when it last said it was alive.</summary>
public sealed record NodeHeartbeat(string Node, string Instance, string Version, DateTimeOffset StartedAt, DateTimeOffset LastSeen);
