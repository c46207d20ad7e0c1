using Yingyun.Archive.Tests.EventLog;

namespace Yingyun.Archive.Tests;

/// <summary>
/// Entry point of the test assembly when it runs as a child process (the test runner never calls
/// it): the crash-safety test starts <c>dotnet Yingyun.Archive.Tests.dll eventlog-crash-append …</c>
/// and kills it with SIGKILL.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length >= 1 && args[0] == CrashHelper.Command)
        {
            return await CrashHelper.RunAsync(args[1..]);
        }

        await Console.Error.WriteLineAsync($"usage: {CrashHelper.Command} DIR ROUND");
        return 2;
    }
}
