namespace Outbox.Tests.Infrastructure;

/// <summary>
/// A test class with a PostgreSQL server of its own (which its tests may stop and restart without disturbing other
/// tests), a migrated database on it and an embedded Kafka.
/// </summary>
public abstract class PrivateServerTestBase : IAsyncLifetime
{
    protected PrivatePostgresServer Server { get; } = new();

    protected TestKafka Kafka { get; } = new();

    protected TestDatabase Db { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        Db = new TestDatabase(Server.ConnectionString);
        await Db.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Db.DisposeAsync();
        await Server.DisposeAsync();
        Kafka.Dispose();
    }
}
