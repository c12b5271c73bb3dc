namespace Outbox.Silo.Http;

/// <summary>Body of POST /admin/partitions/{partition}/parked/retry: one message, one key, or (neither) the whole partition.</summary>
public sealed record RetryParkedRequest(long? Id, string? Key);

/// <summary>Body of POST /admin/partitions/{partition}/parked/discard. <see cref="Operator"/> is recorded as who discarded.</summary>
public sealed record DiscardParkedRequest(long? Id, string? Key, string? Reason, string? Operator);

/// <summary>Body of POST /admin/replay.</summary>
public sealed record ReplayRequest(long FromId, long ToId, int? Partition);
