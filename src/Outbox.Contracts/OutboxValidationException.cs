namespace Outbox.Contracts;

/// <summary>An enqueue argument breaks a rule; nothing was written.</summary>
public sealed class OutboxValidationException(string message) : ArgumentException(message);
