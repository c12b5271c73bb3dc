namespace Outbox.Contracts;

/// <summary>
/// An enqueue argument breaks a rule; nothing was written. When the database refused it (a rule only the database
/// can check, such as the deployment's Kafka message size) the caller's transaction is aborted as well.
/// </summary>
public sealed class OutboxValidationException : ArgumentException
{
    /// <summary>A rule the C# API checks before anything is written; <paramref name="message"/> says which.</summary>
    public OutboxValidationException(string message)
        : base(message)
    {
    }

    /// <summary>A rule the database checked: <paramref name="innerException"/> is its refusal (a PostgresException).</summary>
    public OutboxValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
