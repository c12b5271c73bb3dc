namespace Outbox.Tests.Infrastructure;

/// <summary>Polls a condition until it holds or a deadline passes (distributed effects take time to show).</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string because)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out after {timeout}: {because}");
            await Task.Delay(100);
        }
    }
}
