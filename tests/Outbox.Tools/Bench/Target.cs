using System.Globalization;

namespace Outbox.Tools.Bench;

/// <summary>
/// A figure of a benchmark line with the target the issue names for it, printed next to it: <c>6.1[&lt;=8:met]</c> or
/// <c>52.0[&lt;=40:missed]</c>. A figure that could not be measured (NaN) misses its target.
/// </summary>
internal static class Target
{
    public static string AtMost(double value, double limit, string format = "0.0") => Show(value, "<=", limit, value <= limit, format);

    public static string Below(double value, double limit, string format = "0.0") => Show(value, "<", limit, value < limit, format);

    public static string AtLeast(double value, double limit, string format = "0.00") => Show(value, ">=", limit, value >= limit, format);

    private static string Show(double value, string comparison, double limit, bool met, string format) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{value.ToString(format, CultureInfo.InvariantCulture)}[{comparison}{limit.ToString("0.##", CultureInfo.InvariantCulture)}:{(met ? "met" : "missed")}]");
}
