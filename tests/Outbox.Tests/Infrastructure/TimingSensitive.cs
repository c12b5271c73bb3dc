namespace Outbox.Tests.Infrastructure;

/// <summary>
/// Runs alone, after the parallel tests: tests that compare two timings of one run (a drain against another drain) or
/// wait for a whole cluster of producers to start, which the suite's other tests sharing 2 cores made fail at random.
/// </summary>
[CollectionDefinition(nameof(TimingSensitive), DisableParallelization = true)]
public sealed class TimingSensitive;
