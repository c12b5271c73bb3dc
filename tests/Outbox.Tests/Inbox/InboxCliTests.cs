using System.CommandLine;
using System.Text.Json;
using Outbox.Silo.Commands;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Inbox;

/// <summary>`inbox parked list|retry|discard` and `inbox migrate`, run in-process as Program.cs runs them, with their exit codes.</summary>
public sealed class InboxCliTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task OperatorsListRetryAndDiscardParkedEventsWithTheRelaysConventions()
    {
        Assert.Contains("the inbox schema is missing", (await RunAsync("inbox", "parked", "list", "--group", "g")).Error, StringComparison.Ordinal);
        var migrate = await RunAsync("inbox", "migrate");
        Assert.Equal((ExitCodes.Ok, "inbox migrate: applied 1"), (migrate.Code, migrate.Out.Trim()));
        Assert.Contains("up to date", (await RunAsync("inbox", "migrate")).Out, StringComparison.Ordinal);
        await using (var seed = _db.DataSource.CreateCommand("""
            with claimed as (insert into inbox.received (consumer_group, event_id, topic, key) values ('g', gen_random_uuid(), 'orders', 'order-7') returning event_id)
            insert into inbox.parked (consumer_group, event_id, topic, kafka_partition, kafka_offset, key, header_names, header_values, payload, reason, error, attempts)
            select 'g', event_id, 'orders', 2, 40, 'order-7', '{}', '{}', '\x7b7d', 'failed', 'InvalidOperationException: no such account', 5 from claimed
            """))
            await seed.ExecuteNonQueryAsync();

        var table = await RunAsync("inbox", "parked", "list", "--group", "g");
        Assert.Equal(ExitCodes.Ok, table.Code);
        Assert.Contains("no such account", table.Out, StringComparison.Ordinal);
        Assert.Contains("1 parked event(s): 1 failed", table.Out, StringComparison.Ordinal);
        var json = JsonDocument.Parse((await RunAsync("inbox", "parked", "list", "--group", "g", "--json")).Out).RootElement;
        var id = json[0].GetProperty("id").GetInt64();
        Assert.Equal("order-7", json[0].GetProperty("key").GetString());

        Assert.Equal(ExitCodes.Usage, (await RunAsync("inbox", "parked", "retry", "--group", "g")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("inbox", "parked", "retry", "--group", "g", "--id", "1", "--all")).Code);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("inbox", "parked", "retry", "--group", "g", "--id", "999")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("inbox", "parked", "discard", "--group", "g", "--all", "--reason", " ")).Code);
        var retry = await RunAsync("inbox", "parked", "retry", "--group", "g", "--id", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(ExitCodes.Ok, retry.Code);
        Assert.Equal(1, await _db.ScalarAsync("select count(*) from inbox.parked where retry_requested_at is not null"));

        var discard = await RunAsync("inbox", "parked", "discard", "--group", "g", "--key", "order-7", "--reason", "account closed", "--by", "ops");
        Assert.Equal(ExitCodes.Ok, discard.Code);
        Assert.Equal(0, await _db.ScalarAsync("select count(*) from inbox.parked"));
        Assert.Equal(1, await _db.ScalarAsync("select count(*) from inbox.discarded where discarded_by = 'ops' and discard_reason = 'account closed'"));
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("inbox", "parked", "discard", "--group", "g", "--all", "--reason", "again")).Code);
    }

    private async Task<(int Code, string Out, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CliInvocation.InvokeAsync(new RootCommand { InboxCommand.Create() }, [.. args, "--db", _db.ConnectionString],
            new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
