using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Outbox.Grains.Relay;

/// <summary>The silo's one retry pipeline for every partition (see <see cref="RelayRetryPipeline"/>).</summary>
internal sealed class RelayRetry(IOptions<RelayOptions> options, ILogger<RelayRetry> logger)
{
    public ResiliencePipeline Pipeline { get; } = RelayRetryPipeline.Create(options.Value, logger);
}
