using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Cluster;

/// <summary>
/// Several real Orleans silo processes on one test database (which holds their membership table) and the
/// test's embedded Kafka, each with a record of its log lines. Each silo binds HTTP port 0 and reports the port
/// it got; its silo-to-silo and gateway ports are picked free just before it starts (Orleans advertises the
/// port it binds, so it cannot bind port 0).
/// </summary>
public sealed class SiloCluster : IAsyncDisposable
{
    private readonly TestDatabase _db;
    private readonly TestKafka _kafka;
    private readonly ITestOutputHelper _output;
    private readonly IReadOnlyDictionary<string, string> _overrides;
    private readonly string _clusterId = "outbox-test-" + Guid.NewGuid().ToString("N")[..8];
    private readonly Dictionary<string, Member> _members = [];

    public SiloCluster(TestDatabase db, TestKafka kafka, ITestOutputHelper output, IReadOnlyDictionary<string, string>? overrides = null)
    {
        _db = db;
        _kafka = kafka;
        _output = output;
        _overrides = overrides ?? new Dictionary<string, string>();
    }

    /// <summary>One silo process and what it logged.</summary>
    public sealed class Member(string name)
    {
        private TaskCompletionSource<Uri> _address = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name { get; } = name;

        /// <summary>Where the current process listens; null until it has said so.</summary>
        public Uri? BaseAddress => _address.Task.IsCompletedSuccessfully ? _address.Task.Result : null;

        public Task<Uri> Listening => _address.Task;

        public SiloProcess Process { get; internal set; } = null!;

        internal void Restarting() => _address = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal void Observe(string line)
        {
            Log.Enqueue(line);
            var match = ListeningOn.Match(line);
            if (match.Success) _address.TrySetResult(new Uri(match.Groups[1].Value));
        }

        public ConcurrentQueue<string> Log { get; } = new();

        private static readonly System.Text.RegularExpressions.Regex ListeningOn = new(@"Now listening on: (http://\S+)");

        public bool Logged(string text) => Log.Any(line => line.Contains(text, StringComparison.Ordinal));
    }

    /// <summary>
    /// Starts (or restarts) the named silos one after another, each an active cluster member before the next joins:
    /// a joining Orleans silo must reach every active one within a probe timeout, and silos that all start at once
    /// on a loaded 2-core machine kept failing that check against each other.
    /// </summary>
    public async Task<Member[]> StartAsync(params string[] names)
    {
        var started = new Member[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            started[i] = await LaunchAsync(names[i]);
            var address = await started[i].Listening.WaitAsync(TimeSpan.FromSeconds(180));
            await LocalEnvironment.WaitUntilReadyAsync(address, TimeSpan.FromSeconds(180), CancellationToken.None);
        }
        Write($"ready: {string.Join(", ", names)}");
        return started;
    }

    /// <summary>Starts (or restarts) a silo without waiting for it to join; <paramref name="overrides"/> apply to this silo alone.</summary>
    public async Task<Member> LaunchAsync(string name, IReadOnlyDictionary<string, string>? overrides = null)
    {
        // A restart: the previous process of that name is gone (killed) or is stopped first.
        if (_members.TryGetValue(name, out var previous)) await previous.Process.DisposeAsync();
        return Launch(name, overrides ?? new Dictionary<string, string>());
    }

    /// <summary>The Orleans cluster id of these silos (one of their own per test).</summary>
    public string ClusterId => _clusterId;

    private Member Launch(string name, IReadOnlyDictionary<string, string> launchOverrides)
    {
        if (!_members.TryGetValue(name, out var member)) _members[name] = member = new Member(name);
        member.Restarting();
        var configuration = TestSilo.Configuration(_db, _kafka, name, new Dictionary<string, string>
        {
            ["Cluster:ClusterId"] = _clusterId,
            ["Logging:LogLevel:Orleans.Runtime.MembershipService"] = "Information",
            ["Logging:LogLevel:Outbox.Grains.Relay.OutboxPartitionGrain"] = "Information",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
            ["Urls"] = "http://127.0.0.1:0",
        });
        foreach (var (key, value) in _overrides.Concat(launchOverrides)) configuration[key] = value;
        member.Process = SiloProcess.Start(name, configuration, line =>
        {
            member.Observe(line);
            Write(line);
        });
        return member;
    }

    public Member this[string name] => _members[name];

    /// <summary>The owner the database records for every partition (set when a relay activates it).</summary>
    public async Task<Dictionary<int, string?>> OwnersAsync()
    {
        await using var command = _db.DataSource.CreateCommand("select partition, owner from outbox.partitions");
        await using var reader = await command.ExecuteReaderAsync();
        var owners = new Dictionary<int, string?>();
        while (await reader.ReadAsync()) owners[reader.GetInt32(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
        return owners;
    }

    /// <summary>The partition's current ownership epoch.</summary>
    public Task<long> EpochAsync(int partition) => _db.ScalarAsync($"select epoch from outbox.partitions where partition = {partition}");

    /// <summary>The partitions a silo says it runs (GET /status "active"); null when it does not answer.</summary>
    public static async Task<int[]?> ActiveAsync(Member member)
    {
        if (member.BaseAddress is null) return null;
        using var http = new HttpClient { BaseAddress = member.BaseAddress, Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            var status = await http.GetFromJsonAsync<JsonElement>(new Uri("/status", UriKind.Relative));
            return status.GetProperty("active").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// Waits until the given silos split all partitions between them: each partition runs on exactly one of
    /// them, every one of them runs at least one, and the database names the same owner.
    /// </summary>
    public async Task WaitForExclusiveOwnershipAsync(IReadOnlyCollection<Member> live, TimeSpan timeout)
    {
        string last = "";
        await Eventually.TrueAsync(async () =>
        {
            var owners = await OwnersAsync();
            var active = new Dictionary<string, int[]?>();
            foreach (var m in live) active[m.Name] = await ActiveAsync(m);
            last = string.Join("; ", active.Select(a => $"{a.Key}=[{(a.Value is null ? "no answer" : string.Join(',', a.Value))}]"));
            if (active.Values.Any(a => a is null || a.Length == 0)) return false;
            var runners = Enumerable.Range(0, TestDatabase.Partitions)
                .Select(p => active.Where(a => a.Value!.Contains(p)).Select(a => a.Key).ToArray()).ToArray();
            return runners.Select((names, p) => names.Length == 1 && owners[p] == names[0]).All(ok => ok);
        }, timeout, "every partition runs on exactly one live silo, as the database records");
        Write($"ownership settled: {last}");
    }

    /// <summary>Polls until no partition is recorded as owned by <paramref name="name"/>; returns how long that took.</summary>
    public async Task<TimeSpan> WaitUntilOwnsNothingAsync(string name, TimeSpan timeout)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await Eventually.TrueAsync(async () => (await OwnersAsync()).Values.All(o => o != name), timeout,
            $"the partitions of {name} were taken over by other silos");
        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    public void Write(string line)
    {
        try
        {
            _output.WriteLine(line.StartsWith('[') ? line : $"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        }
        catch (InvalidOperationException)
        {
            // The test is over; late output of a silo being stopped has nowhere to go.
        }
    }

    /// <summary>Kills every silo: the scenario is over, and an orderly leave would only cost a round of rebalances.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var member in _members.Values)
        {
            if (!member.Process.HasExited) member.Process.Kill();
            await member.Process.DisposeAsync();
        }
        Write("silos killed");
    }
}
