using System.Diagnostics;

namespace Yingyun.Interop.Tests.Infrastructure;

/// <summary>A CT dataset from the shared benchmark generator (<c>../shared/bench-data/gen_dataset.py</c> beside the
/// repository; YINGYUN_SHARED overrides), made once per machine into <c>.build/testdata</c> and reused: generation
/// is deterministic for the same options.</summary>
internal static class GeneratedDataset
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static string RepositoryRoot
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Yingyun.sln"))) return d.FullName;
            throw new InvalidOperationException("Yingyun.sln not found above the test's folder");
        }
    }

    /// <summary><paramref name="studies"/> × <paramref name="instances"/> CT instances of rows × columns, no extras.</summary>
    public static async Task<string> GetAsync(int studies, int instances, int rows, int columns)
    {
        string root = RepositoryRoot;
        string folder = Path.Combine(root, ".build", "testdata", $"ct-{studies}x{instances}-{rows}x{columns}");
        await Gate.WaitAsync();
        try
        {
            if (File.Exists(Path.Combine(folder, "manifest.json"))) return folder;
            string shared = Environment.GetEnvironmentVariable("YINGYUN_SHARED") is { Length: > 0 } s ? s : Path.Combine(root, "..", "shared");
            string generator = Path.Combine(shared, "bench-data", "gen_dataset.py");
            if (!File.Exists(generator)) throw new InvalidOperationException($"the dataset generator is missing: {generator} (the shared folder lives beside the repository)");
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { generator, "--studies", studies.ToString(), "--instances", instances.ToString(), "--rows", rows.ToString(), "--cols", columns.ToString(), "--no-extras", "--out", folder })
                info.ArgumentList.Add(a);
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0) throw new InvalidOperationException($"gen_dataset.py failed ({process.ExitCode}): {await stderr}{await stdout}");
            return folder;
        }
        finally
        {
            Gate.Release();
        }
    }
}
