using System.Diagnostics;
using Outbox.Grains.Storage;

namespace Outbox.Grains.Relay;

/// <summary>
/// Where a partition's reads begin: a lower bound on the ids still to read, so a read is an index range scan that
/// starts near the live rows instead of walking the index entries of every row removed since vacuum last ran.
/// </summary>
/// <remarks>
/// The floor passes an id only when (1) the id is settled (its transaction is known finished: see
/// <see cref="SettledHorizon"/>), (2) a read whose snapshot came after that scanned past it, and (3) that read's
/// batch was completed (published and removed, or parked). Rows below the floor that are still in the outbox are
/// only parked or scheduled ones and rows held back behind them; when one becomes publishable again the read
/// itself moves back to it (read_batch.sql), and the floor follows. Every <see cref="FullReadSweeps"/> sweep
/// intervals a drain reads from the partition's first row anyway: defence in depth should the transaction-id rule
/// (013_quiet_enqueue.sql) ever be broken, say by a sequence cache. Not every sweep: under a long transaction
/// elsewhere that read walks every dead entry of the partition.
/// </remarks>
internal sealed class ReadPosition(TimeSpan sweepInterval)
{
    /// <summary>How many sweep intervals apart the reads from the partition's first row are.</summary>
    public const int FullReadSweeps = 10;

    private readonly TimeSpan _fullReadInterval = sweepInterval * FullReadSweeps;
    private long _floor;
    private int _generation;
    private long _lastFullRead = Stopwatch.GetTimestamp();

    /// <summary>The id the next read begins at (0: the partition's first row).</summary>
    public long Floor => _floor;

    /// <summary>Where a drain's first read begins: the floor, or the partition's first row when the full read is due.</summary>
    public long StartOfDrain()
    {
        if (Stopwatch.GetElapsedTime(_lastFullRead) >= _fullReadInterval)
        {
            _lastFullRead = Stopwatch.GetTimestamp();
            _floor = 0;
            _generation++;
        }
        return _floor;
    }

    /// <summary>
    /// Takes a read into account: a read that began below the floor moves the floor down at once, and voids what
    /// earlier reads allowed (their batches may still be completing: raising the floor to their allowance would pass
    /// the rows this read found below it and those after them that it did not reach). Returns what the read allows
    /// once its batch is completed (pass it to <see cref="Advance"/> then, never before).
    /// </summary>
    public Allowance Observe(BatchRead read, bool full)
    {
        if (read.ReadFrom < _floor)
        {
            _floor = read.ReadFrom;
            _generation++;
        }
        // A batch that stopped at a limit (rows or bytes) scanned only up to its last row; a shorter one scanned
        // everything visible.
        var scanned = full ? read.Rows[^1].Id : long.MaxValue;
        return new Allowance(Math.Min(read.SettledBefore, scanned) + 1, _generation);
    }

    /// <summary>The batch of the read that returned <paramref name="allowed"/> is completed: move the floor up to it.</summary>
    public void Advance(Allowance allowed)
    {
        if (allowed.Generation == _generation) _floor = Math.Max(_floor, allowed.Floor);
    }

    /// <summary>What one read allows the floor, valid while no later read has moved the floor down.</summary>
    public readonly record struct Allowance(long Floor, int Generation);
}
