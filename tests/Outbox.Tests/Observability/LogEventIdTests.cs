using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Outbox.Grains.Diagnostics;
using Outbox.Silo.Hosting;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Observability;

/// <summary>
/// The log event ids operators are told to look for are one table: every id a [LoggerMessage] uses is a
/// constant of OutboxEventId, every constant is used and has its own value, and docs/observability.md lists
/// each one under its name.
/// </summary>
[Trait("Category", "Unit")]
public sealed partial class LogEventIdTests
{
    private static readonly Dictionary<int, string> Table = typeof(OutboxEventId)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .ToDictionary(f => (int)f.GetRawConstantValue()!, f => f.Name);

    [Fact]
    public void EveryLoggedEventIdIsInTheTable()
    {
        var unlisted = LoggedEvents().Where(e => !Table.ContainsKey(e.Id)).Select(e => $"{e.Id} ({e.Method})").ToList();
        Assert.True(unlisted.Count == 0, "Add these event ids to OutboxEventId and docs/observability.md: " + string.Join(", ", unlisted));
    }

    [Fact]
    public void EveryIdInTheTableIsDistinctAndLogged()
    {
        var constants = typeof(OutboxEventId).GetFields(BindingFlags.Public | BindingFlags.Static);
        Assert.Equal(constants.Length, Table.Count);
        var logged = LoggedEvents().Select(e => e.Id).ToHashSet();
        Assert.Empty(Table.Keys.Where(id => !logged.Contains(id)).Select(id => $"{id} {Table[id]}"));
    }

    [Fact]
    public void TheOperatorsTableListsEveryIdUnderItsName()
    {
        var docs = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "observability.md"));
        var documented = DocumentedRow().Matches(docs).ToDictionary(m => int.Parse(m.Groups[1].Value), m => m.Groups[2].Value);
        Assert.Equal(Table.OrderBy(e => e.Key), documented.OrderBy(e => e.Key));
    }

    private static IEnumerable<(int Id, string Method)> LoggedEvents() =>
        new[] { typeof(OutboxEventId).Assembly, typeof(SiloHost).Assembly }
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => (x.Attribute!.EventId, $"{x.Method.DeclaringType!.Name}.{x.Method.Name}"));

    [GeneratedRegex(@"^\| (\d+) \| `(\w+)` \|", RegexOptions.Multiline)]
    private static partial Regex DocumentedRow();
}
