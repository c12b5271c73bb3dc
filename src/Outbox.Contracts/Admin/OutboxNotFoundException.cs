namespace Outbox.Contracts.Admin;

/// <summary>The partition or message an operator named does not exist (or nothing matched the selection).</summary>
public sealed class OutboxNotFoundException(string message) : Exception(message);
