using System.Text;
using Yingyun.Dicom.Fuzz;

namespace Yingyun.Dicom.Tests.Fuzz;

/// <summary>Runs the fuzz target (tests/fuzz/Yingyun.Dicom.Fuzz/ReaderTarget.cs, linked here) over every input
/// that once crashed it (Fuzz/regressions, filled by tests/fuzz/run.sh) and over fixed smoke mutations of the
/// built-in seeds. An unexpected exception, a broken invariant, or a run over 30 s fails the test.</summary>
public class FuzzRegressionTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private static string RegressionsDirectory => Path.Combine(AppContext.BaseDirectory, "Fuzz", "regressions");

    public static TheoryData<string> RegressionFiles()
    {
        var data = new TheoryData<string>();
        if (Directory.Exists(RegressionsDirectory))
            foreach (var f in Directory.EnumerateFiles(RegressionsDirectory).Order(StringComparer.Ordinal))
                if (!Path.GetFileName(f).StartsWith('.')) data.Add(Path.GetFileName(f));
        // xUnit refuses a theory without data: an empty folder still runs one (trivial) case.
        if (data.Count == 0) data.Add("");
        return data;
    }

    [Theory]
    [MemberData(nameof(RegressionFiles))]
    public async Task Regression_input_does_not_crash_the_reader(string name)
    {
        if (name.Length == 0) return;
        var bytes = await File.ReadAllBytesAsync(Path.Combine(RegressionsDirectory, name));
        await RunWithLimit(bytes, name);
    }

    [Fact]
    public async Task Smoke_mutations_of_the_built_in_seeds_do_not_crash_the_reader()
    {
        var seeds = BuiltInSeeds.Create();
        var mutator = new SmokeMutator(seed: 20240131);
        var failures = new StringBuilder();
        await Task.Run(() =>
        {
            for (int i = 0; i < 1500; i++)
            {
                var (seedName, seed) = seeds[i % seeds.Count];
                var input = mutator.Mutate(seed, out var how);
                try
                {
                    ReaderTarget.Run(input);
                }
                catch (Exception e)
                {
                    failures.AppendLine($"mutation {i} of {seedName} ({how}): {ReaderTarget.Signature(e)}");
                    failures.AppendLine($"  input: {Convert.ToBase64String(input)}");
                    failures.AppendLine($"  {e}");
                }
            }
        }).WaitAsync(Limit * 4);
        failures.ToString().Should().BeEmpty();
    }

    [Fact]
    public async Task Built_in_seeds_read_cleanly_and_round_trip()
    {
        foreach (var (name, bytes) in BuiltInSeeds.Create())
        {
            var outcome = await Task.Run(() => ReaderTarget.Run(bytes));
            outcome.Should().Be(ReaderTarget.Outcome.RoundTripped, name);
        }
    }

    private static async Task RunWithLimit(byte[] input, string name)
    {
        var run = Task.Run(() =>
        {
            try
            {
                ReaderTarget.Run(input);
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        });
        if (await Task.WhenAny(run, Task.Delay(Limit)) != run)
            Assert.Fail($"{name}: the target ran for more than {Limit.TotalSeconds} s (a hang)");
        var error = await run;
        if (error is not null)
            Assert.Fail($"{name}: {ReaderTarget.Signature(error)}{Environment.NewLine}{error}");
    }
}
