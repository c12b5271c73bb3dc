using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Npgsql;
using Outbox.Contracts.Admin;

namespace Outbox.Silo.Http;

/// <summary>
/// The operator's HTTP surface over <see cref="OutboxAdmin"/> (the same calls the CLI makes), mapped under the
/// token-guarded /admin group. Handlers bind only strings and read their JSON body themselves, so the token is
/// checked before any input is parsed; every value is validated and reaches SQL only as a parameter.
/// </summary>
public static class AdminEndpoints
{
    /// <summary>Admin bodies are a few small fields; anything bigger is refused before it is read.</summary>
    private const long MaxBodyBytes = 64 * 1024;

    public static void MapAdminEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapPost("/partitions/{partition}/pause", (string partition, OutboxAdmin outbox, CancellationToken ct) =>
            SetPausedAsync(partition, paused: true, outbox, ct));
        admin.MapPost("/partitions/{partition}/resume", (string partition, OutboxAdmin outbox, CancellationToken ct) =>
            SetPausedAsync(partition, paused: false, outbox, ct));

        admin.MapGet("/parked", (string? partition, string? key, string? limit, OutboxAdmin outbox, CancellationToken ct) => RunAsync(async () =>
        {
            var p = partition is null ? (int?)null : ParsePartition(partition);
            var n = limit is null ? 100 : ParseInt(limit, "limit");
            return Results.Ok(await outbox.ListParkedAsync(p, key, n, ct).ConfigureAwait(false));
        }));

        admin.MapPost("/partitions/{partition}/parked/retry", (string partition, HttpRequest request, OutboxAdmin outbox, CancellationToken ct) =>
            RunAsync(async () =>
            {
                var body = await ReadBodyAsync<RetryParkedRequest>(request, ct).ConfigureAwait(false) ?? new RetryParkedRequest(null, null);
                var selection = new ParkedSelection(ParsePartition(partition), body.Id, body.Key);
                var retried = await outbox.RetryParkedAsync(selection, ct).ConfigureAwait(false);
                return Results.Ok(new { partition = selection.Partition, retried });
            }));

        admin.MapPost("/partitions/{partition}/parked/discard", (string partition, HttpRequest request, OutboxAdmin outbox, CancellationToken ct) =>
            RunAsync(async () =>
            {
                var body = await ReadBodyAsync<DiscardParkedRequest>(request, ct).ConfigureAwait(false)
                    ?? throw new ArgumentException("A JSON body with a reason is required.");
                var selection = new ParkedSelection(ParsePartition(partition), body.Id, body.Key);
                var by = body.Operator ?? "http:" + request.HttpContext.Connection.RemoteIpAddress;
                var discarded = await outbox.DiscardParkedAsync(selection, by, body.Reason!, ct).ConfigureAwait(false);
                return Results.Ok(new { partition = selection.Partition, discarded });
            }));

        admin.MapPost("/replay", (HttpRequest request, OutboxAdmin outbox, CancellationToken ct) => RunAsync(async () =>
        {
            var body = await ReadBodyAsync<ReplayRequest>(request, ct).ConfigureAwait(false)
                ?? throw new ArgumentException("A JSON body with fromId and toId is required.");
            var replayed = await outbox.ReplayAsync(new ReplayRange(body.FromId, body.ToId, body.Partition), ct).ConfigureAwait(false);
            return Results.Ok(new { replayed });
        }));
    }

    private static Task<IResult> SetPausedAsync(string partition, bool paused, OutboxAdmin outbox, CancellationToken ct) => RunAsync(async () =>
    {
        var p = ParsePartition(partition);
        await outbox.SetPausedAsync(p, paused, ct).ConfigureAwait(false);
        return Results.Ok(new { partition = p, paused });
    });

    /// <summary>Maps the admin API's failures to HTTP: bad input 400, unknown 404, database away 503.</summary>
    private static async Task<IResult> RunAsync(Func<Task<IResult>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest);
        }
        catch (JsonException)
        {
            return Results.Problem("The body is not valid JSON of the expected shape.", statusCode: StatusCodes.Status400BadRequest);
        }
        catch (BadHttpRequestException e)
        {
            return Results.Problem(e.Message, statusCode: e.StatusCode);
        }
        catch (OutboxNotFoundException e)
        {
            return Results.Problem(e.Message, statusCode: StatusCodes.Status404NotFound);
        }
        catch (NpgsqlException)
        {
            return Results.Problem("The outbox database is unavailable.", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static async Task<T?> ReadBodyAsync<T>(HttpRequest request, CancellationToken ct) where T : class
    {
        if (request.ContentLength is 0) return null;
        if (request.ContentLength > MaxBodyBytes)
            throw new BadHttpRequestException($"The body is larger than {MaxBodyBytes} bytes.", StatusCodes.Status413PayloadTooLarge);
        // Chunked bodies have no length up front: Kestrel stops reading them at the limit instead.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBodyBytes;
        if (!request.HasJsonContentType()) throw new ArgumentException("The body must be JSON (Content-Type: application/json).");
        return await request.ReadFromJsonAsync<T>(ct).ConfigureAwait(false);
    }

    private static int ParsePartition(string value) => ParseInt(value, "partition");

    private static int ParseInt(string value, string name) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw new ArgumentException($"{name} must be a non-negative integer within range.");
}
