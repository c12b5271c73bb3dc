using Microsoft.Extensions.Options;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>Checks what the attributes on <see cref="ExactlyOnceOptions"/> cannot express.</summary>
internal sealed class ExactlyOnceOptionsValidator : IValidateOptions<ExactlyOnceOptions>
{
    public ValidateOptionsResult Validate(string? name, ExactlyOnceOptions options)
    {
        var failures = new List<string>();
        if (options.ProgressTopic is "." or "..")
            failures.Add($"{ExactlyOnceOptions.Section}:{nameof(options.ProgressTopic)} cannot be '.' or '..' (Kafka refuses those names).");
        if (options.ProgressTopic?.StartsWith("__", StringComparison.Ordinal) == true)
            failures.Add($"{ExactlyOnceOptions.Section}:{nameof(options.ProgressTopic)} must not start with '__' (reserved for Kafka's internal topics).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
