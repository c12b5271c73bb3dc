using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Outbox.Tests.Observability;

/// <summary>
/// Debian's Chromium, headless, driven over the DevTools protocol (a WebSocket on a loopback port): opens a
/// page, evaluates JavaScript in it, collects console errors and uncaught exceptions, takes screenshots.
/// </summary>
public sealed partial class HeadlessChromium : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly CancellationTokenSource _closing = new();
    private Task _receiving = Task.CompletedTask;
    private string? _session;
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>Console errors, uncaught exceptions and failed resource loads the page produced so far.</summary>
    public IReadOnlyCollection<string> Errors => _errors.ToArray();

    public static async Task<HeadlessChromium> StartAsync(int width = 1280, int height = 900)
    {
        var profile = Directory.CreateTempSubdirectory("outbox-chromium-").FullName;
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
                     $"--user-data-dir={profile}", "--remote-debugging-port=0", "--remote-allow-origins=*",
                     $"--window-size={width},{height}", "about:blank",
                 })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("chromium did not start");
        var browser = new HeadlessChromium(process, profile);
        _ = process.StandardOutput.ReadToEndAsync();
        var endpoint = await ReadDevToolsEndpointAsync(process, TimeSpan.FromSeconds(30));
        await browser.AttachAsync(endpoint, width, height);
        return browser;
    }

    private static async Task<Uri> ReadDevToolsEndpointAsync(Process process, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var seen = new StringBuilder();
        while (await process.StandardError.ReadLineAsync(deadline.Token) is { } line)
        {
            seen.AppendLine(line);
            if (DevToolsLine().Match(line) is { Success: true } match)
            {
                // Keep draining stderr so chromium never blocks on a full pipe.
                _ = process.StandardError.ReadToEndAsync();
                return new Uri(match.Groups[1].Value);
            }
        }
        throw new InvalidOperationException("chromium exited before opening its DevTools endpoint:\n" + seen);
    }

    private async Task AttachAsync(Uri browserEndpoint, int width, int height)
    {
        await _socket.ConnectAsync(browserEndpoint, CancellationToken.None);
        _receiving = ReceiveAsync();
        var targets = await SendAsync("Target.getTargets", new JsonObject(), session: false);
        var page = targets["targetInfos"]!.AsArray().First(t => (string?)t!["type"] == "page")!;
        var attached = await SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = (string?)page["targetId"], ["flatten"] = true },
            session: false);
        _session = (string?)attached["sessionId"];
        await SendAsync("Runtime.enable");
        await SendAsync("Log.enable");
        await SendAsync("Page.enable");
        await SendAsync("Emulation.setDeviceMetricsOverride",
            new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false });
    }

    public Task NavigateAsync(Uri url) => SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() });

    /// <summary>Evaluates <paramref name="expression"/> in the page and returns its JSON value.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true });
        if (result["exceptionDetails"] is { } exception) throw new InvalidOperationException("page script failed: " + exception.ToJsonString());
        return result["result"]?["value"];
    }

    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" });
        return Convert.FromBase64String((string)result["data"]!);
    }

    private async Task<JsonObject> SendAsync(string method, JsonObject? parameters = null, bool session = true)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        if (session) message["sessionId"] = _session;
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var answer = await reply.Task.WaitAsync(TimeSpan.FromSeconds(30));
        if (answer["error"] is { } error) throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
        return answer["result"]?.AsObject() ?? new JsonObject();
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var part = await _socket.ReceiveAsync(buffer, _closing.Token);
                if (part.MessageType == WebSocketMessageType.Close) return;
                message.Write(buffer, 0, part.Count);
                if (!part.EndOfMessage) continue;
                var json = JsonNode.Parse(message.ToArray())!.AsObject();
                message.SetLength(0);
                if (json["id"] is { } id && _pending.TryRemove((int)id, out var reply)) reply.TrySetResult(json);
                else Observe(json);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException)
        {
            // Closing.
        }
    }

    private void Observe(JsonObject message)
    {
        var parameters = message["params"];
        var consoleType = parameters?["type"]?.GetValue<string>();
        var logLevel = parameters?["entry"]?["level"]?.GetValue<string>();
        switch (message["method"]?.GetValue<string>())
        {
            case "Runtime.exceptionThrown":
                _errors.Enqueue("exception: " + parameters?["exceptionDetails"]?.ToJsonString());
                break;
            case "Runtime.consoleAPICalled" when consoleType is "error" or "assert":
                _errors.Enqueue("console: " + parameters?["args"]?.ToJsonString());
                break;
            case "Log.entryAdded" when logLevel == "error":
                _errors.Enqueue("log: " + parameters?["entry"]?["text"]);
                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // Already gone.
        }
        await _receiving.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        _socket.Dispose();
        _process.Dispose();
        _closing.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still hold a lock file for a moment; the temp directory is cleaned eventually.
        }
    }

    [GeneratedRegex(@"DevTools listening on (ws://\S+)")]
    private static partial Regex DevToolsLine();
}
