namespace Outbox.Tests.Infrastructure;

/// <summary>A test class with a fresh outbox database and an embedded Kafka of its own, per test.</summary>
public abstract class RelayTestBase : IAsyncLifetime
{
    protected TestDatabase Db { get; } = new();

    protected TestKafka Kafka { get; } = new();

    public virtual Task InitializeAsync() => Db.InitializeAsync();

    public virtual async Task DisposeAsync()
    {
        await Db.DisposeAsync();
        Kafka.Dispose();
    }
}
