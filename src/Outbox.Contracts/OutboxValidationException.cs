namespace Outbox.Contracts;

/// <summary>
/// An enqueue argument breaks a rule; nothing was written. When the database refused it (a rule only the database
/// can check, such as the deployment's Kafka message size) the caller's transaction is aborted as well.
/// </summary>
public sealed class OutboxValidationException : ArgumentException
{
    public OutboxValidationException(string message)
        : base(message)
    {
    }

    public OutboxValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
