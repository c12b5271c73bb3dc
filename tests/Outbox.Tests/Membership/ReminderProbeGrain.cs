namespace Outbox.Tests.Membership;

/// <summary>A grain that registers one Orleans reminder and reports its ticks to the test.</summary>
public interface IReminderProbeGrain : IGrainWithIntegerKey
{
    Task RegisterAsync(TimeSpan dueTime, TimeSpan period);
}

/// <summary>Shared by every silo of one test: the reminder ticks the probe grains received, wherever they ran.</summary>
public sealed class ReminderTicks
{
    private readonly TaskCompletionSource<string> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the name of the first reminder that fired.</summary>
    public Task<string> First => _first.Task;

    public void Record(string reminderName) => _first.TrySetResult(reminderName);
}

public sealed class ReminderProbeGrain(ReminderTicks ticks) : Grain, IReminderProbeGrain, IRemindable
{
    public const string ReminderName = "probe";

    public Task RegisterAsync(TimeSpan dueTime, TimeSpan period) =>
        this.RegisterOrUpdateReminder(ReminderName, dueTime, period);

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        ticks.Record(reminderName);
        return Task.CompletedTask;
    }
}
