using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Outbox.Silo.Hosting;

namespace Outbox.Silo.Http;

/// <summary>
/// Guards mutating admin endpoints: they answer 404 when no Admin:Token is configured (disabled), 401 without a
/// bearer token or with a wrong one. Compared in constant time over hashes, so length does not leak either.
/// </summary>
public sealed class AdminTokenFilter(IOptions<AdminOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = options.Value.Token;
        if (string.IsNullOrEmpty(expected))
            return Results.Problem("Admin endpoints are disabled: set Admin:Token to enable them.", statusCode: StatusCodes.Status404NotFound);
        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        var presented = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? header[scheme.Length..].Trim() : "";
        if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected))))
            return Results.Problem("A valid admin bearer token is required.", statusCode: StatusCodes.Status401Unauthorized);
        return await next(context).ConfigureAwait(false);
    }
}
