namespace Outbox.Tests.Infrastructure;

/// <summary>The repository the tests run from (found as the folder holding Outbox.sln above the test's output).</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Outbox.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Outbox.sln not found above " + AppContext.BaseDirectory);
    }
}
