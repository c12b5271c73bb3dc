using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Outbox.Contracts;
using Outbox.Silo.Commands;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Operations;

/// <summary>
/// The operator's command line, run in-process exactly as Program.cs runs it: results, tables and JSON, and the
/// exit codes scripts rely on for bad flags, unknown partitions and a database that is down.
/// </summary>
public sealed class CliCommandTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task StatusShowsEveryPartitionAsATableOrJsonAndRefusesAnUnknownPartition()
    {
        var table = await RunAsync("status");
        Assert.Equal(ExitCodes.Ok, table.Code);
        Assert.Contains("oldest pending", table.Out, StringComparison.Ordinal);

        var json = await RunAsync("status", "--json");
        Assert.Equal(ExitCodes.Ok, json.Code);
        Assert.Equal(TestDatabase.Partitions, JsonDocument.Parse(json.Out).RootElement.GetArrayLength());

        var unknown = await RunAsync("status", "--partition", "99");
        Assert.Equal(ExitCodes.NotFound, unknown.Code);
        Assert.Contains("no partition 99", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DrainAcceptsAPartitionOrKeyAndRefusesUnknownPartitionsAndAmbiguousFlags()
    {
        Assert.Equal(ExitCodes.Ok, (await RunAsync("drain", "--partition", "3")).Code);
        var byKey = await RunAsync("drain", "--key", "order-1");
        Assert.Equal(ExitCodes.Ok, byKey.Code);
        Assert.Contains($"partition {OutboxPartitioner.PartitionOf("order-1", TestDatabase.Partitions)}", byKey.Out, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("drain", "--partition", "99")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("drain")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("drain", "--partition", "1", "--key", "x")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("drain", "--partition", "many")).Code);
    }

    [Fact]
    public async Task MigrateIsIdempotentAndRefusesAnotherPartitionCount()
    {
        var again = await RunAsync("migrate", "--partitions", TestDatabase.Partitions.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(ExitCodes.Ok, again.Code);
        Assert.Contains("up to date", again.Out, StringComparison.Ordinal);

        var other = await RunAsync("migrate", "--partitions", "8");
        Assert.Equal(ExitCodes.Failed, other.Code);
        Assert.Contains("created with 16 partitions", other.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("migrate", "--partitions", "0")).Code);
    }

    [Fact]
    public async Task PauseAndResumeFlipThePartitionAndRefuseUnknownOnes()
    {
        var pause = await RunAsync("pause", "--partition", "2");
        Assert.Equal(ExitCodes.Ok, pause.Code);
        Assert.Contains("partition 2 paused", pause.Out, StringComparison.Ordinal);
        Assert.Equal(1, await _db.ScalarAsync("select count(*) from outbox.partitions where paused"));
        Assert.Equal(1, await _db.ScalarAsync("select count(*) from outbox.partitions where paused and partition = 2"));

        var resume = await RunAsync("resume", "--partition", "2", "--json");
        Assert.Equal(ExitCodes.Ok, resume.Code);
        Assert.False(JsonDocument.Parse(resume.Out).RootElement.GetProperty("paused").GetBoolean());
        Assert.Equal(0, await _db.ScalarAsync("select count(*) from outbox.partitions where paused"));

        var unknown = await RunAsync("pause", "--partition", "16");
        Assert.Equal(ExitCodes.NotFound, unknown.Code);
        Assert.Contains("no partition 16", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("pause", "--partition", "-1")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("pause")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("resume", "--partition", "two")).Code);
    }

    [Fact]
    public async Task ParkedListsRetriesAndDiscardsParkedMessages()
    {
        var (partition, ids) = await ParkAsync("poison-key", "second-poison");

        var table = await RunAsync("parked", "list");
        Assert.Equal(ExitCodes.Ok, table.Code);
        Assert.Contains("poison-key", table.Out, StringComparison.Ordinal);
        Assert.Contains("2 parked message(s)", table.Out, StringComparison.Ordinal);
        var json = JsonDocument.Parse((await RunAsync("parked", "list", "--key", "poison-key", "--json")).Out).RootElement;
        Assert.Equal(1, json.GetArrayLength());
        Assert.Equal("MsgSizeTooLarge: test", json[0].GetProperty("reason").GetString());
        Assert.Equal(1, json[0].GetProperty("waiting").GetInt64());

        var retry = await RunAsync("parked", "retry", "--partition", partition.ToString(CultureInfo.InvariantCulture), "--id",
            ids[0].ToString(CultureInfo.InvariantCulture));
        Assert.Equal(ExitCodes.Ok, retry.Code);
        Assert.Contains("1 message(s)", retry.Out, StringComparison.Ordinal);
        Assert.Equal(1, await _db.ScalarAsync("select count(*) from outbox.messages where parked_at is not null"));
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("parked", "retry", "--partition", partition.ToString(CultureInfo.InvariantCulture), "--id",
            ids[0].ToString(CultureInfo.InvariantCulture))).Code);

        var discard = await RunAsync("parked", "discard", "--key", "second-poison", "--reason", "obsolete event", "--by", "bob", "--json");
        Assert.Equal(ExitCodes.Ok, discard.Code);
        Assert.Equal(1, JsonDocument.Parse(discard.Out).RootElement.GetProperty("discarded").GetInt32());
        Assert.Equal(1, await _db.ScalarAsync("select count(*) from outbox.discarded where discarded_by = 'bob' and reason = 'obsolete event'"));
        Assert.Equal(0, await _db.ScalarAsync("select count(*) from outbox.messages where parked_at is not null"));

        Assert.Equal(ExitCodes.NotFound, (await RunAsync("parked", "list", "--partition", "99")).Code);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("parked", "retry", "--partition", "99")).Code);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("parked", "discard", "--key", "nothing-parked", "--reason", "x")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("parked", "list", "--limit", "0")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("parked", "list", "--limit", "100000")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("parked", "retry")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("parked", "retry", "--id", "5")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("parked", "retry", "--partition", "1", "--id", "-5")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("parked", "discard", "--partition", "1")).Code); // --reason is required
        Assert.Equal(ExitCodes.Usage, (await RunAsync("parked", "discard", "--partition", "1", "--reason", "  ")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("parked", "retry", "--key", new string('k', 2000))).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("parked", "purge")).Code);
    }

    [Fact]
    public async Task ReplayQueuesAuditedMessagesAgainAndRejectsBadRanges()
    {
        await Exec("""
            insert into outbox.published (partition, id, event_id, topic, key, payload, created_at)
            select outbox.partition_of('k-' || i), i, gen_random_uuid(), 'audited', 'k-' || i, '\x01', now()
            from generate_series(1, 10) i
            """);

        var replay = await RunAsync("replay", "--from", "3", "--to", "7");
        Assert.Equal(ExitCodes.Ok, replay.Code);
        Assert.Contains("5 message(s)", replay.Out, StringComparison.Ordinal);
        Assert.Equal(5, await _db.ScalarAsync(
            "select count(*) from outbox.messages m join outbox.published p using (event_id) where p.id between 3 and 7"));

        Assert.Equal(ExitCodes.NotFound, (await RunAsync("replay", "--from", "100", "--to", "200")).Code);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("replay", "--from", "1", "--to", "2", "--partition", "99")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("replay", "--from", "7", "--to", "3")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("replay", "--from", "1", "--to", long.MaxValue.ToString(CultureInfo.InvariantCulture))).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("replay", "--from", "1", "--to", "99999999999999999999")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("replay", "--from", "1")).Code);
        Assert.Equal(5, await _db.ScalarAsync("select count(*) from outbox.messages"));
    }

    [Theory]
    [InlineData("status")]
    [InlineData("drain --partition 1")]
    [InlineData("migrate")]
    [InlineData("parked list")]
    [InlineData("parked retry --partition 1")]
    [InlineData("parked discard --partition 1 --reason gone")]
    [InlineData("pause --partition 1")]
    [InlineData("resume --partition 1")]
    [InlineData("replay --from 1 --to 2")]
    public async Task EveryCommandReportsADatabaseThatIsDown(string command)
    {
        var nobodyListens = $"Host=127.0.0.1;Port={LocalEnvironment.FreePort()};Username=outbox;Password=outbox;Database=outbox;Timeout=5";
        var result = await RunWithDatabaseAsync(nobodyListens, command.Split(' '));
        Assert.Equal(ExitCodes.DatabaseUnavailable, result.Code);
        Assert.Contains("database unavailable", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownVerbOrFlagIsAUsageError()
    {
        var verb = await RunWithDatabaseAsync(null, "bogus");
        Assert.Equal(ExitCodes.Usage, verb.Code);
        Assert.NotEmpty(verb.Error);
        Assert.Equal(ExitCodes.Usage, (await RunWithDatabaseAsync(null, "status", "--bogus")).Code);
    }

    [Fact]
    public async Task AConnectionStringThatDoesNotParseIsAUsageErrorWithoutAStackTrace()
    {
        var result = await RunWithDatabaseAsync("Bogus=1", "migrate");
        Assert.Equal(ExitCodes.Usage, result.Code);
        Assert.Contains("--db", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DrainRefusesANegativePartitionAsAUsageError() =>
        Assert.Equal(ExitCodes.Usage, (await RunAsync("drain", "--partition", "-1")).Code);

    [Fact]
    public async Task MigrationsAppliedByHandAreRecordedSoMigrateFindsThemApplied()
    {
        await using var byHand = new TestDatabaseWithoutSchema();
        await byHand.InitializeAsync();
        foreach (var (_, name) in Outbox.Contracts.Schema.OutboxMigrator.Migrations)
        {
            // As a DBA would: psql -f each file, in order, nothing else.
            await using var command = byHand.DataSource.CreateCommand(SqlResource.Read(typeof(OutboxMessage).Assembly, "Schema.Migrations." + name));
            await command.ExecuteNonQueryAsync();
        }

        var migrate = await RunWithDatabaseAsync(byHand.ConnectionString, "migrate", "--partitions", "16");
        Assert.True(migrate.Code == ExitCodes.Ok, migrate.Error);
        Assert.Contains("up to date", migrate.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADatabaseMigratedByTheLastReleaseUpgradesToTheNewMigrations()
    {
        // The last release shipped migrations 1, 3 and 11; a database it set up records exactly those. Shipped
        // migrations keep their numbers (renumbering one would make migrate apply it a second time), and new ones
        // are numbered above them.
        string[] shipped = ["001_outbox.sql", "003_operations.sql", "011_message_validation.sql"];
        await using var released = new TestDatabaseWithoutSchema();
        await released.InitializeAsync();
        foreach (var name in shipped)
        {
            await using var command = released.DataSource.CreateCommand(SqlResource.Read(typeof(OutboxMessage).Assembly, "Schema.Migrations." + name));
            await command.ExecuteNonQueryAsync();
        }

        var migrate = await RunWithDatabaseAsync(released.ConnectionString, "migrate", "--partitions", "16");
        Assert.True(migrate.Code == ExitCodes.Ok, migrate.Error);
        var newer = Outbox.Contracts.Schema.OutboxMigrator.Migrations.Where(m => !shipped.Contains(m.Name)).ToArray();
        Assert.All(newer, m => Assert.True(m.Version > 11, $"{m.Name} is numbered below the last shipped migration"));
        await using var versions = released.DataSource.CreateCommand("select array_agg(version order by version) from outbox.schema_migrations");
        var recorded = (int[])(await versions.ExecuteScalarAsync())!;
        Assert.Equal([1, 3, 11, .. newer.Select(m => m.Version)], recorded);
    }

    [Fact]
    public async Task StatusOnADatabaseThatWasNeverMigratedSaysToRunMigrate()
    {
        await using var empty = new TestDatabaseWithoutSchema();
        await empty.InitializeAsync();
        var status = await RunWithDatabaseAsync(empty.ConnectionString, "status");
        Assert.Equal(ExitCodes.Failed, status.Code);
        Assert.Contains("run `outbox.sh migrate", status.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("database unavailable", status.Error, StringComparison.Ordinal);
    }

    private async Task<(int Partition, long[] Ids)> ParkAsync(params string[] keys)
    {
        var messages = keys.SelectMany(k => new[] { Enqueue.Event("orders", k, 1), Enqueue.Event("orders", k, 2) }).ToArray();
        await Enqueue.CommitAsync(_db, messages);
        // Park the first message of each key as the relay does when Kafka refuses it for good.
        await Exec("""
            update outbox.messages m set parked_at = now(), park_reason = 'MsgSizeTooLarge: test', attempts = 1
            where id = (select min(id) from outbox.messages f where f.key = m.key)
            """);
        var ids = new List<long>();
        await using (var command = _db.DataSource.CreateCommand("select id from outbox.messages where parked_at is not null and key = @k"))
        {
            command.Parameters.AddWithValue("k", keys[0]);
            ids.Add((long)(await command.ExecuteScalarAsync())!);
        }
        return (OutboxPartitioner.PartitionOf(keys[0], TestDatabase.Partitions), ids.ToArray());
    }

    private Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => RunWithDatabaseAsync(_db.ConnectionString, args);

    /// <summary>Runs the CLI as Program.cs does, with <c>--db</c> appended when given, capturing its output.</summary>
    private static async Task<(int Code, string Out, string Error)> RunWithDatabaseAsync(string? database, params string[] args)
    {
        var root = new RootCommand
        {
            MigrateCommand.Create(), StatusCommand.Create(), DrainCommand.Create(), ParkedCommand.Create(),
            PauseCommand.Create(pause: true), PauseCommand.Create(pause: false), ReplayCommand.Create(),
        };
        var output = new StringWriter();
        var error = new StringWriter();
        string[] all = database is null ? args : [.. args, "--db", database];
        var code = await CliInvocation.InvokeAsync(root, all, new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private async Task Exec(string sql)
    {
        await using var command = _db.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
