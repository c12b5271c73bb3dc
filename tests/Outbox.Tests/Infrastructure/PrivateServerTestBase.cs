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

    private readonly List<PrivatePostgresServer> _standbys = [];

    /// <summary>A synchronous standby of <see cref="Server"/>, stopped with the test class (after its database is dropped).</summary>
    protected async Task<PrivatePostgresServer> StartSynchronousStandbyAsync()
    {
        var standby = await Server.StartSynchronousStandbyAsync();
        _standbys.Add(standby);
        return standby;
    }

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        Db = new TestDatabase(Server.ConnectionString);
        await Db.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Db.DisposeAsync();
        foreach (var standby in _standbys) await standby.DisposeAsync();
        await Server.DisposeAsync();
        Kafka.Dispose();
    }
}
