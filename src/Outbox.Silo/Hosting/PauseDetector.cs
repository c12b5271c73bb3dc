using System.Diagnostics;

namespace Outbox.Silo.Hosting;

/// <summary>
/// Notices that this whole process stood still (SIGSTOP, a VM pause, a stalled host) for longer than a threshold.
/// A dedicated thread wakes every <see cref="Tick"/> and compares the monotonic clock, which keeps running while
/// the process is stopped, with its previous wake-up. It runs apart from the consumer thread so a rebalance
/// handler that waits on a batch cannot hide a pause.
/// </summary>
internal sealed class PauseDetector : IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    private readonly TimeSpan _threshold;
    private readonly Action<TimeSpan> _onPause;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    /// <param name="threshold">A gap longer than this counts as a pause.</param>
    /// <param name="onPause">Called on the detector's thread with the length of the gap.</param>
    public PauseDetector(TimeSpan threshold, Action<TimeSpan> onPause)
    {
        _threshold = threshold;
        _onPause = onPause;
        _thread = new Thread(Run) { IsBackground = true, Name = "outbox-pause-detector" };
        _thread.Start();
    }

    private void Run()
    {
        var last = Stopwatch.GetTimestamp();
        while (!_stop.Token.WaitHandle.WaitOne(Tick))
        {
            var now = Stopwatch.GetTimestamp();
            var gap = Stopwatch.GetElapsedTime(last, now);
            last = now;
            if (gap > _threshold) _onPause(gap);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
    }
}
