using System.Globalization;
using Yingyun.Dimse;
using Yingyun.Dimse.Tests.Infrastructure;
using Yingyun.Server.Cli;

namespace Yingyun.Server.Tests.Cli;

/// <summary>`yingyun storescp` receiving from DCMTK's storescu and echoscu on 127.0.0.1.</summary>
[Collection("console")] // the command writes to Console: keep these tests from running in parallel
public class StoreScpCommandTests
{
    [Fact]
    public async Task Storescp_receives_from_storescu_over_several_associations_and_stops_on_cancel()
    {
        using var received = new TempFolder();
        string[] names = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "JPEG2000.dcm"];
        int port = Dcmtk.FreePort();
        string portText = port.ToString(CultureInfo.InvariantCulture);
        var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(output);
        using var stop = new CancellationTokenSource();
        Task<int> scp = YingyunCli.RunAsync(["storescp", "--port", portText, "--aet", "BENCHSCP", "--output", received.Path, "--associations", "2", "--address", "127.0.0.1"], stop.Token);
        try
        {
            await WaitUntilListeningAsync(port, scp);
            (await Dcmtk.RunAsync("echoscu", "-aec", "BENCHSCP", "127.0.0.1", portText)).ExitCode.Should().Be(0);
            // Two storescu at once: two associations.
            var runs = await Task.WhenAll(
                Dcmtk.RunAsync("storescu", ["-aec", "BENCHSCP", "127.0.0.1", portText, .. names[..3].Select(Corpus.File)]),
                Dcmtk.RunAsync("storescu", ["-aec", "BENCHSCP", "-R", "-xw", "127.0.0.1", portText, .. names[3..].Select(Corpus.File)]));
            foreach (var run in runs) run.ExitCode.Should().Be(0, run.ToString());
            // A called AE title other than ours is refused.
            (await Dcmtk.RunAsync("echoscu", "-aec", "OTHER", "127.0.0.1", portText)).ExitCode.Should().NotBe(0);
        }
        finally
        {
            await stop.CancelAsync();
            (await scp.WaitAsync(TimeSpan.FromSeconds(60))).Should().Be(0);
            Console.SetOut(original);
        }

        // Each instance under its SOP Instance UID, the same data set as sent (storescu converts implicit VR files to the
        // explicit VR context we prefer, so elements are compared, not bytes).
        var instances = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in names)
            instances[(await Part10Header.ReadAsync(Corpus.File(n))).SopInstanceUid] = n;
        Directory.GetFiles(received.Path).Select(Path.GetFileName).Should().BeEquivalentTo(instances.Keys.Select(uid => uid + ".dcm"));
        foreach (var (uid, name) in instances)
        {
            var stored = await Dicom.DicomReader.OpenAsync(Path.Combine(received.Path, uid + ".dcm"));
            stored.Problems.Should().NotContain(p => p.IsFatal, name);
            await DataSetComparer.AssertEquivalentAsync((await Dicom.DicomReader.OpenAsync(Corpus.File(name))).Dataset, stored.Dataset, name);
        }
        output.ToString().Should().Contain($"{instances.Count} instances stored").And.Contain("0 refused");
    }

    [Fact]
    public async Task Storescp_refuses_an_invalid_ae_title_or_address()
    {
        (await YingyunCli.RunAsync(["storescp", "--aet", "BAD\\AE"])).Should().Be(1);
        (await YingyunCli.RunAsync(["storescp", "--address", "localhost:x"])).Should().Be(1);
    }

    /// <summary>Waits until something listens on the port (the kernel's socket table, no probe connection), or the
    /// command ended.</summary>
    private static async Task WaitUntilListeningAsync(int port, Task<int> command)
    {
        string hexPort = port.ToString("X4", CultureInfo.InvariantCulture);
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
            {
                if (!File.Exists(table)) continue;
                foreach (var line in await File.ReadAllLinesAsync(table, guard.Token))
                {
                    var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (fields.Length > 3 && fields[1].EndsWith(":" + hexPort, StringComparison.Ordinal) && fields[3] == "0A") return;
                }
            }
            if (command.IsCompleted) throw new InvalidOperationException($"storescp ended with {await command} before listening");
            await Task.Delay(20, guard.Token);
        }
    }
}
